import Foundation
import PackagePlugin

/// Embeds a chapter's Swift sources, as compiled, into the chapter: a generated file
/// `EmbeddedSources.swift` defines `embeddedSources`, the text of every source file of the
/// target with its path from the package root. A page then shows the code that ran, not a read
/// of the working tree at run time, and its provenance carries the hash of that code.
@main
struct EmbedSources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let inputs = module.sourceFiles(withSuffix: "swift").map(\.url).sorted { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedSources.swift")
        return [.buildCommand(
            displayName: "Embedding the sources of \(target.name)",
            executable: try context.tool(named: "EmbedSourcesTool").url,
            arguments: [context.package.directoryURL.path, output.path] + inputs.map(\.path),
            inputFiles: inputs,
            outputFiles: [output])]
    }
}

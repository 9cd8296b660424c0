import ArgumentParser
import BookKit
import Foundation
import TinyLM

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exact log pi(x) of texts, one a line, under a checkpoint.",
        discussion: """
        Reads FILE (or standard input for - or no argument), one text a line, and prints one JSON \
        object a line: {"text", "logprob", "tokens"}, where logprob = log pi(x) in nats including \
        the end token and tokens counts the predicted tokens (characters + 1). A character outside \
        the vocabulary, or a text longer than the block size allows, is an error naming the line.
        """
    )

    @Option(help: "A safetensors checkpoint.") var checkpoint: String
    @Argument(help: "Input file, or - for standard input.") var input: String = "-"

    func run() throws {
        let c = try Checkpoint.load(URL(fileURLWithPath: checkpoint))
        let data: Data
        do { data = try InputFile.read(input) } catch let e as InputError { throw UsageError(e.message) }
        // One text a line; a line ending CRLF (a file written on Windows) loses its CR.
        // (split as bytes: in a Swift String "\r\n" is one Character, never equal to "\n")
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        var encoded: [[Int32]] = []
        for (i, line) in lines.enumerated() {
            do {
                let ids = try c.tokenizer.encode(line)
                guard ids.count - 1 <= c.model.config.blockSize else {
                    throw TinyLMError.tooLong(length: ids.count - 2, blockSize: c.model.config.blockSize)
                }
                encoded.append(ids)
            } catch let e as TinyLMError {
                throw UsageError("line \(i + 1): \(e)")
            }
        }
        let lp = c.model.logProbs(of: encoded)
        for (line, (ids, l)) in zip(lines, zip(encoded, lp)) {
            print(jsonLine(["text": line, "logprob": l, "tokens": ids.count - 1]))
        }
    }
}

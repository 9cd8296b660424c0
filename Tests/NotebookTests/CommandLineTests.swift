@testable import BookKit
import Testing

@Suite("Provenance: the command line a reader would type")
struct CommandLineTests {
    @Test("a SwiftPM build path becomes the swift run command; other paths and arguments are kept, quoted")
    func commandLine() {
        #expect(Environment.commandLine(["/tmp/final2/.build/x86_64-unknown-linux-gnu/release/fine-tuning", "--output", "Output"])
                == "swift run -c release fine-tuning --output Output")
        #expect(Environment.commandLine(["/w/.build/debug/fine-tuning", "--quick"]) == "swift run fine-tuning --quick")
        #expect(Environment.commandLine(["./fine-tuning", "--word", "it's"]) == #"./fine-tuning --word 'it'\''s'"#)
    }
}

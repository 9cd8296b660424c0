/// What the fine-tuning rewards: a target word, as a pointwise constraint and as a scalar reward.
///
/// A word occurs in a text when its letters appear, case-insensitively, with no letter right
/// before or after them ("love" occurs in "Love me" and "love," but not in "glove" or "lovely").
public struct TargetWord: Sendable, Equatable {
    public let word: String
    private let letters: [Character]

    /// - Precondition: `word` is non-empty and made of letters.
    public init(_ word: String) {
        precondition(!word.isEmpty && word.allSatisfy(\.isLetter), "a target word is made of letters")
        self.word = word.lowercased()
        self.letters = Array(self.word)
    }

    /// Number of whole-word occurrences in `text`.
    public func occurrences(in text: String) -> Int {
        let t = Array(text.lowercased())
        guard t.count >= letters.count else { return 0 }
        var n = 0
        var i = 0
        while i + letters.count <= t.count {
            if Array(t[i..<(i + letters.count)]) == letters,
               i == 0 || !t[i - 1].isLetter,
               i + letters.count == t.count || !t[i + letters.count].isLetter {
                n += 1
                i += letters.count
            } else {
                i += 1
            }
        }
        return n
    }

    /// The constraint b(x) = 1 when the text contains the word, else 0.
    public func constraint(_ text: String) -> Double { occurrences(in: text) > 0 ? 1 : 0 }

    /// The scalar reward r(x) = number of occurrences, capped at `cap` so that one degenerate
    /// text cannot earn an unbounded reward.
    public func reward(_ text: String, cap: Int = 4) -> Double { Double(min(occurrences(in: text), cap)) }
}

/// A hash that is the same on every machine and every run (Swift's `Hasher` is seeded per
/// process): 64-bit FNV-1a, h = (h ⊕ byte) · 0x100000001b3 from 0xcbf29ce484222325. It names
/// cache entries by their settings and tells two sets of weights apart; it is no defence
/// against a deliberate collision.
public enum StableHash {
    public static func fnv1a<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    /// The hash of a string's UTF-8 bytes, in hexadecimal.
    public static func hex(_ string: String) -> String { String(fnv1a(string.utf8), radix: 16) }
}

extension FloatBuffer {
    /// The hash of the buffer's bytes (little-endian Float32), in hexadecimal: equal for
    /// bitwise-equal contents.
    public var digest: String {
        String(StableHash.fnv1a(UnsafeRawBufferPointer(start: pointer, count: count * MemoryLayout<Float>.stride)), radix: 16)
    }
}

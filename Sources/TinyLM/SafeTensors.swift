import Foundation
import Notebook

/// The safetensors file format (as written by Hugging Face's `safetensors`): an 8-byte
/// little-endian header length N, N bytes of JSON mapping each tensor name to
/// {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data that follows) plus an
/// optional "__metadata__" object of strings, then the raw little-endian data. Only F32 here.
public enum SafeTensors {
    /// One tensor: its shape and its Float32 values (row-major).
    public struct Tensor: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Float]
        public init(shape: [Int], values: [Float]) {
            precondition(shape.reduce(1, *) == values.count, "SafeTensors.Tensor: shape does not match the value count")
            self.shape = shape
            self.values = values
        }
    }

    /// A whole file: tensors in storage order and string metadata.
    public struct File: Sendable {
        public var tensors: [(name: String, tensor: Tensor)]
        public var metadata: [String: String]
        public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
            self.tensors = tensors
            self.metadata = metadata
        }
        public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
    }

    /// The bytes of a file: header padded with spaces to a multiple of 8 bytes, then the data.
    public static func encode(_ file: File) throws(TinyLMError) -> Data {
        var header: [String: Any] = [:]
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var offset = 0
        for (name, t) in file.tensors {
            guard header[name] == nil, name != "__metadata__" else { throw .checkpoint("duplicate tensor name \(name)") }
            let bytes = t.values.count * 4
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        guard var json = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) else {
            throw .checkpoint("cannot encode the header as JSON")
        }
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, t) in file.tensors {
            t.values.withUnsafeBufferPointer { out.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        }
        return out
    }

    /// Parses and validates a file: header length within the file, JSON header, F32 tensors whose
    /// offsets match their shapes, lie inside the data, do not overlap and cover it exactly.
    public static func decode(_ data: Data) throws(TinyLMError) -> File {
        guard data.count >= 8 else { throw .checkpoint("file of \(data.count) bytes is too short for a safetensors header (truncated?)") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(data.count - 8) else {
            throw .checkpoint("header says \(n) bytes but only \(data.count - 8) follow (truncated file)")
        }
        guard case .object(let header) = try HeaderJSON.parse(Array(data[data.startIndex + 8 ..< data.startIndex + 8 + Int(n)])) else {
            throw .checkpoint("the header is not a JSON object")
        }
        let dataStart = 8 + Int(n)
        let dataLength = data.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard case .object(let m) = value else { throw .checkpoint("__metadata__ must map strings to strings") }
                for (key, v) in m {
                    guard case .string(let text) = v else { throw .checkpoint("__metadata__ must map strings to strings (\(key) does not)") }
                    metadata[key] = text
                }
                continue
            }
            guard case .object(let fields) = value else { throw .checkpoint("tensor \(name): malformed header entry") }
            let info = Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard case .string(let dtype)? = info["dtype"] else { throw .checkpoint("tensor \(name): malformed header entry (dtype)") }
            guard dtype == "F32" else { throw .checkpoint("tensor \(name): dtype \(dtype), only F32 is supported") }
            guard case .array(let shapeItems)? = info["shape"], case .array(let offsetItems)? = info["data_offsets"] else {
                throw .checkpoint("tensor \(name): malformed header entry (shape and data_offsets must be arrays)")
            }
            let shape = shapeItems.compactMap(\.nonNegativeInteger), offsets = offsetItems.compactMap(\.nonNegativeInteger)
            guard shape.count == shapeItems.count, offsets.count == 2, offsetItems.count == 2 else {
                throw .checkpoint("tensor \(name): shape and data_offsets must hold non-negative integers (two offsets)")
            }
            // Every product in checked arithmetic: a hostile shape must not overflow.
            var bytes = shape.contains(0) ? 0 : 4
            for d in shape where bytes > 0 {
                let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataLength else {
                    throw .checkpoint("tensor \(name): shape \(shape) needs more bytes than the \(dataLength)-byte data section holds")
                }
                bytes = product
            }
            guard offsets[0] <= offsets[1], offsets[1] - offsets[0] == bytes else {
                throw .checkpoint("tensor \(name): data_offsets \(offsets) do not match shape \(shape)")
            }
            guard offsets[1] <= dataLength else {
                throw .checkpoint("tensor \(name) ends at byte \(offsets[1]) of a \(dataLength)-byte data section (truncated file)")
            }
            entries.append((name, shape, offsets[0], offsets[1]))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expected = 0
        for e in entries {
            guard e.begin == expected else { throw .checkpoint("tensor \(e.name): data overlaps or leaves a gap at byte \(expected)") }
            expected = e.end
        }
        guard expected == dataLength else {
            throw .checkpoint("data section has \(dataLength) bytes, tensors cover \(expected) (corrupt file)")
        }
        var tensors: [(name: String, tensor: Tensor)] = []
        for e in entries {
            let count = (e.end - e.begin) / 4
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { dst in
                data.copyBytes(to: dst.bindMemory(to: UInt8.self), from: (dataStart + e.begin)..<(dataStart + e.end))
            }
            tensors.append((e.name, Tensor(shape: e.shape, values: values)))
        }
        return File(tensors: tensors, metadata: metadata)
    }

    /// Writes atomically: the bytes go to a temporary file in the same directory, which is then
    /// renamed over `url`, so a reader never sees a half-written file.
    public static func write(_ file: File, to url: URL) throws(TinyLMError) {
        try writeAtomically(try encode(file), to: url)
    }

    public static func read(_ url: URL) throws(TinyLMError) -> File {
        guard let data = try? Data(contentsOf: url) else { throw .checkpoint("cannot read \(url.path)") }
        return try decode(data)
    }
}

/// Writes `data` to a temporary file beside `url` and renames it over `url` (Notebook's
/// `AtomicFile`: flushed before the rename, a device or FIFO written through, temporaries of
/// killed runs cleaned up), creating the folder if needed.
public func writeAtomically(_ data: Data, to url: URL) throws(TinyLMError) {
    do {
        try AtomicFile.prepareFolder(url.deletingLastPathComponent())
        try AtomicFile.write(data, to: url)
    } catch {
        throw .checkpoint("\(error)")
    }
}

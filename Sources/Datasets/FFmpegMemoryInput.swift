import CFFmpeg
import Foundation

/// A whole video file in memory, read by FFmpeg through a custom I/O context. Videos are read
/// into memory first, as images are (`ImageDecoder.readFile`): a file truncated by another
/// process while FFmpeg reads it then becomes a decode error, never a signal, and the fuzz tests
/// can feed mutated bytes without touching the disk.
final class FFmpegMemoryInput {
    private let bytes: [UInt8]
    private var position = 0
    /// FFmpeg's read buffer size; the buffer itself belongs to the `AVIOContext`.
    private static let bufferSize = 1 << 15

    init(_ data: Data) { bytes = [UInt8](data) }

    /// An `AVIOContext` reading these bytes from the start. The caller frees it with
    /// `FFmpegMemoryInput.free` and keeps `self` alive as long as the context.
    func makeContext() -> UnsafeMutablePointer<AVIOContext>? {
        position = 0
        guard let buffer = av_malloc(Self.bufferSize) else { return nil }
        let context = avio_alloc_context(
            buffer.assumingMemoryBound(to: UInt8.self), Int32(Self.bufferSize), 0,
            Unmanaged.passUnretained(self).toOpaque(),
            { opaque, destination, capacity in
                let input = Unmanaged<FFmpegMemoryInput>.fromOpaque(opaque!).takeUnretainedValue()
                return input.read(into: destination!, capacity: Int(capacity))
            },
            nil,
            { opaque, offset, whence in
                let input = Unmanaged<FFmpegMemoryInput>.fromOpaque(opaque!).takeUnretainedValue()
                return input.seek(offset: offset, whence: whence)
            })
        if context == nil { av_free(buffer) }
        return context
    }

    static func free(_ context: inout UnsafeMutablePointer<AVIOContext>?) {
        guard context != nil else { return }
        av_freep(&context!.pointee.buffer)
        avio_context_free(&context)
    }

    private func read(into destination: UnsafeMutablePointer<UInt8>, capacity: Int) -> Int32 {
        let count = min(capacity, bytes.count - position)
        guard count > 0 else { return cffmpeg_error_eof() }
        bytes.withUnsafeBufferPointer { destination.update(from: $0.baseAddress! + position, count: count) }
        position += count
        return Int32(count)
    }

    private func seek(offset: Int64, whence: Int32) -> Int64 {
        // AVSEEK_SIZE asks for the stream size instead of moving; AVSEEK_FORCE is a hint.
        if whence & AVSEEK_SIZE != 0 { return Int64(bytes.count) }
        let base: Int64
        switch whence & ~AVSEEK_FORCE {
        case SEEK_SET: base = 0
        case SEEK_CUR: base = Int64(position)
        case SEEK_END: base = Int64(bytes.count)
        default: return -1
        }
        let (target, overflow) = base.addingReportingOverflow(offset)
        guard !overflow, target >= 0, target <= Int64(bytes.count) else { return -1 }
        position = Int(target)
        return target
    }
}

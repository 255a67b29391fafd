import CFFmpeg
import Foundation

/// One open demuxer + decoder on the best video stream of an in-memory file, with the swscale
/// context that turns its frames into RGB. `VideoDecoder` is the public face; this type owns the
/// FFmpeg objects and turns every FFmpeg failure into a `DatasetError` naming the file.
final class FFmpegStream {
    let source: String
    // Set by `init` once the stream is found; given defaults so that every property is
    // initialised before the first step that can throw, and `deinit` then frees what was opened.
    private(set) var width = 0
    private(set) var height = 0
    private(set) var framesPerSecond: Double?
    /// Presentation index of the frame `nextFrame` returned last, kept by `VideoDecoder`.
    var lastDecodedIndex: Int?

    private let input: FFmpegMemoryInput
    private var io: UnsafeMutablePointer<AVIOContext>?
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var scaler: OpaquePointer?
    private var streamIndex: Int32 = -1
    private var flushed = false

    struct PacketEntry {
        let timestamp: Int64
        let isKeyframe: Bool
    }

    init(input: FFmpegMemoryInput, source: String) throws {
        self.input = input
        self.source = source
        // FFmpeg logs every damaged packet to stderr; failures reach the caller as errors instead.
        av_log_set_level(AV_LOG_QUIET)
        io = input.makeContext()
        format = avformat_alloc_context()
        guard io != nil, format != nil else { throw DatasetError(file: source, "FFmpeg: out of memory opening the video") }
        format!.pointee.pb = io
        format!.pointee.format_whitelist = av_strdup(VideoDecoder.containerWhitelist)
        var status = avformat_open_input(&format, nil, nil, nil)  // frees and clears `format` on failure
        guard status >= 0 else {
            throw DatasetError(file: source, "not a readable MP4, WebM/Matroska or AVI video (\(Self.message(status)))")
        }
        var decoder: UnsafePointer<AVCodec>?
        status = avformat_find_stream_info(format, nil)
        guard status >= 0 else { throw DatasetError(file: source, "cannot read the stream information (\(Self.message(status)))") }
        let best = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0)
        guard best >= 0, let decoder, let stream = format!.pointee.streams[Int(best)] else {
            throw DatasetError(file: source, "no decodable video stream (\(Self.message(best)))")
        }
        streamIndex = best
        let parameters = stream.pointee.codecpar!
        width = Int(parameters.pointee.width)
        height = Int(parameters.pointee.height)
        try ImageDecoder.checkSize(width: width, height: height, source: source)
        let rate = av_guess_frame_rate(format, stream, nil)
        framesPerSecond = rate.num > 0 && rate.den > 0 ? Double(rate.num) / Double(rate.den) : nil

        codec = avcodec_alloc_context3(decoder)
        packet = av_packet_alloc()
        frame = av_frame_alloc()
        guard codec != nil, packet != nil, frame != nil else { throw DatasetError(file: source, "FFmpeg: out of memory opening the decoder") }
        status = avcodec_parameters_to_context(codec, parameters)
        guard status >= 0 else { throw DatasetError(file: source, "bad codec parameters (\(Self.message(status)))") }
        // One thread per video: the data loader already decodes one sample per core.
        codec!.pointee.thread_count = 1
        status = avcodec_open2(codec, decoder, nil)
        guard status >= 0 else { throw DatasetError(file: source, "cannot open the \(String(cString: decoder.pointee.name)) decoder (\(Self.message(status)))") }
    }

    deinit {
        sws_freeContext(scaler)
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&codec)
        avformat_close_input(&format)
        FFmpegMemoryInput.free(&io)
    }

    /// Every packet of the video stream, in file order, without decoding. Leaves the demuxer at
    /// the end: open a new stream to decode.
    func readPacketIndex() throws -> [PacketEntry] {
        var entries: [PacketEntry] = []
        while true {
            let status = av_read_frame(format, packet)
            if status == cffmpeg_error_eof() { return entries }
            guard status >= 0 else { throw DatasetError(file: source, "damaged container after \(entries.count) frames (\(Self.message(status)))") }
            defer { av_packet_unref(packet) }
            let p = packet!.pointee
            guard p.stream_index == streamIndex, p.size > 0 else { continue }
            entries.append(PacketEntry(timestamp: p.pts != cffmpeg_no_pts() ? p.pts : p.dts,
                                       isKeyframe: p.flags & AV_PKT_FLAG_KEY != 0))
        }
    }

    /// Moves to the last keyframe at or before presentation `timestamp` and drops the decoder's
    /// buffered frames.
    func seek(to timestamp: Int64) throws {
        let status = av_seek_frame(format, streamIndex, timestamp, AVSEEK_FLAG_BACKWARD)
        guard status >= 0 else { throw DatasetError(file: source, "cannot seek to timestamp \(timestamp) (\(Self.message(status)))") }
        avcodec_flush_buffers(codec)
        flushed = false
        lastDecodedIndex = nil
    }

    /// The next decoded frame in presentation order (valid until the next call), or nil at the
    /// end of the stream.
    func nextFrame() throws -> UnsafeMutablePointer<AVFrame>? {
        while true {
            let received = avcodec_receive_frame(codec, frame)
            if received >= 0 { return frame }
            if received == cffmpeg_error_eof() { return nil }
            guard received == cffmpeg_error_again() else {
                throw DatasetError(file: source, "damaged video data (\(Self.message(received)))")
            }
            let status = av_read_frame(format, packet)
            if status == cffmpeg_error_eof() {
                if flushed { return nil }
                flushed = true
                avcodec_send_packet(codec, nil)  // drain the frames the decoder still holds
                continue
            }
            guard status >= 0 else { throw DatasetError(file: source, "damaged container (\(Self.message(status)))") }
            defer { av_packet_unref(packet) }
            guard packet!.pointee.stream_index == streamIndex else { continue }
            let sent = avcodec_send_packet(codec, packet)
            guard sent >= 0 || sent == cffmpeg_error_again() else {
                throw DatasetError(file: source, "damaged video data (\(Self.message(sent)))")
            }
        }
    }

    /// `frame` as RGB (swscale, bilinear — PyAV's default — BT.601 as the stream states).
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, expectedWidth: Int, expectedHeight: Int) throws -> RGB8Image {
        let f = frame.pointee
        guard Int(f.width) == expectedWidth, Int(f.height) == expectedHeight else {
            throw DatasetError(file: source, "a frame is \(f.width)×\(f.height); the stream declares \(expectedWidth)×\(expectedHeight)")
        }
        guard f.format >= 0, sws_isSupportedInput(AVPixelFormat(rawValue: f.format)) > 0,
              let scaler = sws_getCachedContext(scaler, f.width, f.height, AVPixelFormat(rawValue: f.format), f.width, f.height,
                                                AV_PIX_FMT_RGB24, SWS_BILINEAR, nil, nil, nil) else {
            throw DatasetError(file: source, "cannot convert frames of pixel format \(f.format) to RGB")
        }
        self.scaler = scaler
        // Rows padded to 64 bytes plus a tail: swscale's SIMD paths may write past a row's end.
        let rowBytes = expectedWidth * 3
        let stride = (rowBytes + 63) & ~63
        var padded = [UInt8](repeating: 0, count: stride * expectedHeight + 64)
        let rows = padded.withUnsafeMutableBufferPointer { destination -> Int32 in
            var planes: [UnsafeMutablePointer<UInt8>?] = [destination.baseAddress, nil, nil, nil]
            var strides: [Int32] = [Int32(stride), 0, 0, 0]
            return withUnsafePointer(to: frame.pointee.data) { data in
                withUnsafePointer(to: frame.pointee.linesize) { linesize in
                    data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { sourcePlanes in
                        linesize.withMemoryRebound(to: Int32.self, capacity: 8) { sourceStrides in
                            sws_scale(scaler, sourcePlanes, sourceStrides, 0, f.height, &planes, &strides)
                        }
                    }
                }
            }
        }
        guard rows == f.height else { throw DatasetError(file: source, "swscale converted \(rows) of \(f.height) rows") }
        var pixels = [UInt8](repeating: 0, count: rowBytes * expectedHeight)
        for y in 0..<expectedHeight {
            pixels[(y * rowBytes)..<((y + 1) * rowBytes)] = padded[(y * stride)..<(y * stride + rowBytes)]
        }
        return RGB8Image(width: expectedWidth, height: expectedHeight, pixels: pixels)
    }

    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        av_strerror(code, &buffer, buffer.count)
        return String(cString: buffer)
    }
}

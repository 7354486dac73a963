import NIOCore
import NIOHTTP1
import NIOSSL

/// The last handler of a client connection's pipeline: one exchange at a time, on the channel's
/// event loop. It writes the request, gathers the answer up to a size limit, and completes the
/// exchange's promise once: with the answer, or with the first of timeout, cancellation, close
/// or error. Whatever ends an exchange early closes the connection, so no late byte of one
/// answer is ever read as the next.
final class HTTP1ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// What an exchange ends with: the answer, and whether the connection may carry another.
    struct Outcome {
        var response: HTTP1Response
        var reusable: Bool
    }

    private struct Exchange {
        var promise: EventLoopPromise<Outcome>
        var limit: Int
        var timer: Scheduled<Void>?
        var head: HTTPResponseHead?
        var body: ByteBuffer?
        /// Inside a 1xx answer, which the final answer follows.
        var informational = false
    }

    private var context: ChannelHandlerContext?
    private var exchange: Exchange?
    /// How long the connection may sit unused before it closes (before a server or load
    /// balancer would close it under a request).
    private let idleTimeout: TimeAmount
    /// When the last exchange ended; one timer checks it (`checkIdle`), so a busy connection
    /// does not schedule and cancel a timer for every exchange.
    private var idleSince: NIODeadline?
    private var idleTimer: Scheduled<Void>?
    private var closed = false
    /// What closed the connection while no exchange was in progress (a refused TLS handshake).
    private var closeCause: (any Error)?

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Starts an exchange. Fails with `notSent` when the connection had closed before anything
    /// was written (a pooled connection the server closed): the caller may take another
    /// connection, since nothing was sent. A connection that closed on an error (a TLS
    /// handshake refused before the request was even written) fails with that error.
    func start(_ request: HTTP1Request, limit: Int, timeout: TimeAmount, promise: EventLoopPromise<Outcome>) {
        idleSince = nil
        guard let context, !closed, context.channel.isActive, exchange == nil else {
            promise.fail(closeCause ?? HTTP1ConnectionHandler.notSent)
            return
        }
        var exchange = Exchange(promise: promise, limit: limit)
        exchange.timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            self?.end(throwing: HTTP1Error(.timeout))
        }
        self.exchange = exchange

        var headers = request.headers
        if !headers.contains(name: "Host") { headers.add(name: "Host", value: request.origin.hostHeader) }
        if !headers.contains(name: "Content-Length") {
            let length = request.body?.readableBytes ?? 0
            if length > 0 || request.method == .POST || request.method == .PUT {
                headers.add(name: "Content-Length", value: String(length))
            }
        }
        let head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.target, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body = request.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Ends the exchange in progress, if any, with `error`, and closes the connection.
    func abort(_ error: any Error) {
        end(throwing: error)
    }

    /// The connection is idle from now: it closes once it has been so for `idleTimeout`. The
    /// timer is armed only when none is, and looks again when it fires.
    private func becameIdle() {
        let now = NIODeadline.now()
        idleSince = now
        if idleTimer == nil { scheduleIdleCheck(at: now + idleTimeout) }
    }

    private func scheduleIdleCheck(at deadline: NIODeadline) {
        guard let context else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.checkIdle()
        }
    }

    private func checkIdle() {
        idleTimer = nil
        // In an exchange: its end makes the connection idle again and arms the timer.
        guard !closed, exchange == nil, let idleSince else { return }
        let due = idleSince + idleTimeout
        if NIODeadline.now() >= due { close() } else { scheduleIdleCheck(at: due) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard var exchange else {  // an answer nobody asked for: nothing after it can be trusted
            close()
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if (100..<200).contains(head.status.code), head.status != .switchingProtocols {
                exchange.informational = true
            } else {
                exchange.head = head
            }
            self.exchange = exchange
        case .body(let chunk):
            guard !exchange.informational else { return }
            let size = (exchange.body?.readableBytes ?? 0) + chunk.readableBytes
            guard size <= exchange.limit else {
                end(throwing: HTTP1Error(.responseTooLarge, "more than \(exchange.limit) bytes"))
                return
            }
            if exchange.body == nil {
                exchange.body = chunk
            } else {
                exchange.body!.writeImmutableBuffer(chunk)
            }
            self.exchange = exchange
        case .end:
            if exchange.informational {
                exchange.informational = false
                self.exchange = exchange
                return
            }
            guard let head = exchange.head else {
                end(throwing: HTTP1Error(.invalidResponse, "an answer without a status line"))
                return
            }
            exchange.timer?.cancel()
            self.exchange = nil
            let reusable = head.isKeepAlive && !closed
            let response = HTTP1Response(
                status: head.status, headers: head.headers, body: exchange.body ?? context.channel.allocator.buffer(capacity: 0))
            if reusable { becameIdle() } else { close() }
            exchange.promise.succeed(Outcome(response: response, reusable: reusable))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        idleTimer?.cancel()
        end(throwing: HTTP1Error(.connectionClosed))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let error = Self.classify(error)
        // A reset while idle leaves nothing to report: the next exchange takes another connection.
        if exchange == nil, closeCause == nil, (error as? HTTP1Error)?.kind == .connectFailed { closeCause = error }
        end(throwing: error)
    }

    private func end(throwing error: any Error) {
        let exchange = self.exchange
        self.exchange = nil
        exchange?.timer?.cancel()
        close()
        exchange?.promise.fail(error)
    }

    private func close() {
        guard !closed else { return }
        closed = true
        idleTimer?.cancel()
        context?.close(promise: nil)
    }

    /// The marker `start` fails with when nothing was written.
    static let notSent = HTTP1Error(.connectionClosed, "before the request was sent")

    static func classify(_ error: any Error) -> any Error {
        if error is HTTP1Error || error is CancellationError { return error }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError { return HTTP1Error(.connectFailed, "TLS: \(error)") }
        if error is HTTPParserError { return HTTP1Error(.invalidResponse, "\(error)") }
        return HTTP1Error(.connectionClosed, "\(error)")
    }
}

import NIOCore
import NIOHTTP1

/// Closes a connection that has had no request to answer for the idle time (`HTTPListener.IdlePolicy`).
///
/// The clock runs while the connection waits for a request: from when it opens, and from the end
/// of each response; it stops when a whole request has arrived (its `.end`) and stays stopped
/// while the server answers, however long that takes (a long poll). Bytes that arrive without
/// completing a request do not restart it, so a client that trickles a request head one byte at
/// a time is closed as surely as a silent one.
final class IdleConnectionCloser: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let timeout: TimeAmount
    private let untilFirstRequest: Bool
    private var timer: Scheduled<Void>?
    private var requestsSeen = 0
    /// Requests received and not yet answered (HTTP/1.1 pipelining may queue several).
    private var awaitingAnswers = 0

    /// nil when the policy never closes a connection.
    init?(_ policy: HTTPListener.IdlePolicy) {
        switch policy {
        case .none: return nil
        case .always(let timeout): (self.timeout, untilFirstRequest) = (timeout, false)
        case .untilFirstRequest(let timeout): (self.timeout, untilFirstRequest) = (timeout, true)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            requestsSeen += 1
            awaitingAnswers += 1
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            awaitingAnswers = max(0, awaitingAnswers - 1)
            if awaitingAnswers == 0 { arm(context) }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        if untilFirstRequest && requestsSeen > 0 { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.close(promise: nil)
        }
    }
}

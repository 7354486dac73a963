/// A handler held for one poll (`ProcessRunner.reserve`): a warm process waiting in the Lambda
/// Runtime API's `/next`, so the task the poll brings starts at once. The task's
/// `ProcessRunner.start` uses the reservation up; a poll that brings no task gives it back with
/// `release()`. One-process-per-task runners need none (`immediate`).
public struct HandlerReservation: Sendable {
    private let onRelease: (@Sendable () -> Void)?

    public init(onRelease: (@Sendable () -> Void)?) {
        self.onRelease = onRelease
    }

    /// Nothing held: a `stdio` handler starts as a new process whenever a task comes.
    public static let immediate = HandlerReservation(onRelease: nil)

    /// The poll brought no task (empty, failed, or refused during drain): give the handler back.
    public func release() {
        onRelease?()
    }
}

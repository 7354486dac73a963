import FoundationEssentials
import Logging
import POSIXSupport
import NIOHTTP1
import Synchronization

/// The Runtime API side of a warm slot: `/next` waits for the task the pool hands over,
/// `/response` and `/error` become the task's result, `/init/error` closes the slot's polls.
/// What is allowed is `RuntimeAPIRouter`'s and `WarmProcessState`'s to decide.
extension WarmProcess {
    func handle(_ request: RuntimeAPIServer.Request, generation: Int) async -> RuntimeAPIServer.Response {
        let (held, current) = inner.withLock { ($0.machine.held, $0.generation) }
        guard generation == current else {
            return .json(403, RuntimeAPIRouter.Refusal(
                status: 403, errorType: "InvalidStateTransition", message: "this process has been replaced").body)
        }
        switch RuntimeAPIRouter.route(method: request.method, path: request.uri, held: held) {
        case .refuse(let refusal):
            return .json(refusal.status, refusal.body)
        case .next:
            return await waitForTask(generation: generation)
        case .response(let id):
            guard let (task, decision) = takeAnswered(id) else { return invalidRequestID(id) }
            let status: Int
            if request.bodyBytes > task.invocation.maxOutput {
                task.finish(.exited(0), stdout: request.body, stdoutBytes: request.bodyBytes)
                status = 413
            } else {
                task.finish(.exited(0), stdout: request.body)
                status = 202
            }
            afterAnswer(decision)
            return status == 202 ? .json(202, #"{"status":"OK"}"#) : .json(413, RuntimeAPIRouter.Refusal(
                status: 413, errorType: "RequestEntityTooLarge", message: "the response is larger than max_output").body)
        case .error(let id):
            guard let (task, decision) = takeAnswered(id) else { return invalidRequestID(id) }
            let type = Self.errorType(request)
            task.finish(.functionError(type: type), stdout: request.body, stdoutBytes: request.bodyBytes)
            afterAnswer(decision)
            return .json(202, #"{"status":"OK"}"#)
        case .initError:
            inner.withLock { $0.machine.initErrorPosted() }
            events.unready(self)
            let type = Self.errorType(request)
            let cause = TaskFate.functionErrorCause(request.body)
            // The runtime's words: quoted up to a bound in the log, whole in the tasks it fails.
            logger.error("A warm process failed to initialize", metadata: [
                "error": "\(type.boundedPrefix())", "cause": "\(cause.boundedPrefix(1024))",
            ])
            events.failedToStart(self, "the runtime failed to initialize: \(type): \(cause)")
            // Runtimes exit after an init error; one that stays is ended after its kill grace.
            let grace = inner.withLock { $0.spec.killGrace }
            Task {
                try? await Task.sleep(for: grace)
                let process: (any RunningHandler)? = self.inner.withLock { $0.machine.initErrorGraceOver() ? $0.process : nil }
                process?.terminate(.cancelled)
            }
            return .json(202, #"{"status":"OK"}"#)
        }
    }

    private func waitForTask(generation: Int) async -> RuntimeAPIServer.Response {
        await withCheckedContinuation { continuation in
            let (decision, unanswered, previous) = inner.withLock { inner in
                // Checked again under the lock: a replaced process's request must not reach the
                // machine of the process that replaced it.
                guard inner.generation == generation else {
                    return (WarmProcessState.NextDecision.refuse, WarmTaskRun?.none, CheckedContinuation<RuntimeAPIServer.Response, Never>?.none)
                }
                let decision = inner.machine.nextRequested()
                var unanswered: WarmTaskRun?
                if decision == .failHeldThenReady {
                    unanswered = inner.current
                    inner.current = nil
                }
                var previous: CheckedContinuation<RuntimeAPIServer.Response, Never>?
                if decision != .refuse {
                    previous = inner.nextWaiter
                    inner.nextWaiter = continuation
                }
                return (decision, unanswered, previous)
            }
            previous?.resume(returning: .json(400, RuntimeAPIRouter.Refusal(
                status: 400, errorType: "InvalidStateTransition", message: "another /next replaced this one").body))
            if let unanswered {
                unanswered.finish(.functionError(type: HandlerErrorName.failed), stdout: Array(RuntimeAPIRouter.Refusal(
                    status: 400, errorType: HandlerErrorName.failed,
                    message: "the runtime asked for its next invocation without answering this one").body.utf8))
            }
            switch decision {
            case .refuse:
                continuation.resume(returning: .json(403, RuntimeAPIRouter.Refusal(
                    status: 403, errorType: "InvalidStateTransition",
                    message: "this process failed to initialize or is being stopped").body))
            case .ready, .failHeldThenReady:
                // The task's fields stay on stderr's lines until the next handout: a line the
                // runtime wrote before it asked for its next task may still be in the pipe now.
                events.ready(self)
            }
        }
    }

    private func takeAnswered(_ id: String) -> (WarmTaskRun, WarmProcessState.AnswerDecision)? {
        let taken: (WarmTaskRun, WarmProcessState.AnswerDecision, Task<Void, Never>?)? = inner.withLock { inner in
            guard inner.machine.held == id, let task = inner.current else { return nil }
            inner.current = nil
            defer { inner.timer = nil }
            return (task, inner.machine.answered(), inner.timer)
        }
        guard let (task, decision, timer) = taken else { return nil }
        timer?.cancel()
        // The task's fields stay on stderr until the process asks for its next task: a line it
        // wrote just before answering may still be in the pipe when the answer arrives.
        return (task, decision)
    }

    private func afterAnswer(_ decision: WarmProcessState.AnswerDecision) {
        guard case .acceptedThenKill = decision else { return }
        inner.withLock { $0.process }?.terminate(.cancelled)
    }

    private func invalidRequestID(_ id: String) -> RuntimeAPIServer.Response {
        .json(400, RuntimeAPIRouter.Refusal(
            status: 400, errorType: "InvalidRequestID", message: "this process holds no invocation with request id \(id)").body)
    }

    /// The error body's `errorType`, else the `Lambda-Runtime-Function-Error-Type` header.
    static func errorType(_ request: RuntimeAPIServer.Request) -> String {
        if case .object(let object)? = JSONValue.parse(request.body), case .string(let type)? = object["errorType"], !type.isEmpty {
            return type
        }
        return request.headers.first(name: "Lambda-Runtime-Function-Error-Type") ?? ""
    }

    /// `/next`'s answer: the input, and the headers runtimes read (awslambdaric 4.x crashes
    /// without `Lambda-Runtime-Trace-Id`).
    static func invocationResponse(_ task: WarmTaskRun) -> RuntimeAPIServer.Response {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // No timeout: far in the future (year 9999), so get_remaining_time_in_millis() stays large.
        let deadline = task.invocation.timeout.map { now + $0.milliseconds } ?? 253_402_300_799_000
        let hex = String(task.requestID.unicodeScalars.filter(\.properties.isASCIIHexDigit).prefix(16))
        let padded = String((hex + "0000000000000000").prefix(16))
        let trace = "Root=1-\(String(now / 1000, radix: 16))-00000000\(padded);Parent=\(padded);Sampled=0"
        return RuntimeAPIServer.Response(status: 200, headers: [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", task.requestID),
            ("Lambda-Runtime-Deadline-Ms", String(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn", task.invocation.activity?.arn.description ?? ""),
            ("Lambda-Runtime-Trace-Id", trace),
        ], body: task.invocation.input)
    }
}

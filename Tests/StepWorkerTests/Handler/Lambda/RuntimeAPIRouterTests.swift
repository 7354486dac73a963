import StepWorker
import Testing

/// Every row of the Runtime API's routing, with no sockets.
struct RuntimeAPIRouterTests {
    typealias Route = RuntimeAPIRouter.Route

    @Test func nextIsAGet() {
        #expect(RuntimeAPIRouter.route(method: "GET", path: "/2018-06-01/runtime/invocation/next", held: nil) == .next)
        #expect(RuntimeAPIRouter.route(method: "GET", path: "/2018-06-01/runtime/invocation/next?x=1", held: "a") == .next)
        guard case .refuse(let refusal) = RuntimeAPIRouter.route(method: "POST", path: "/2018-06-01/runtime/invocation/next", held: nil)
        else { Issue.record("POST /next was accepted"); return }
        #expect(refusal.status == 405)
    }

    @Test func responseAndErrorOnlyForTheHeldRequestID() {
        #expect(RuntimeAPIRouter.route(method: "POST", path: "/2018-06-01/runtime/invocation/abc/response", held: "abc")
            == .response(requestID: "abc"))
        #expect(RuntimeAPIRouter.route(method: "POST", path: "/2018-06-01/runtime/invocation/abc/error", held: "abc")
            == .error(requestID: "abc"))
        for held in [nil, "other"] as [String?] {
            for verb in ["response", "error"] {
                guard case .refuse(let refusal) = RuntimeAPIRouter.route(
                    method: "POST", path: "/2018-06-01/runtime/invocation/abc/\(verb)", held: held)
                else { Issue.record("a request id not held was accepted"); continue }
                #expect(refusal.status == 400)
                #expect(refusal.errorType == "InvalidRequestID")
                #expect(refusal.body.contains(#""errorType":"InvalidRequestID""#))
            }
        }
    }

    @Test func initError() {
        #expect(RuntimeAPIRouter.route(method: "POST", path: "/2018-06-01/runtime/init/error", held: nil) == .initError)
        guard case .refuse(let refusal) = RuntimeAPIRouter.route(method: "GET", path: "/2018-06-01/runtime/init/error", held: nil)
        else { Issue.record("GET init/error was accepted"); return }
        #expect(refusal.status == 405)
    }

    @Test(arguments: [
        "/", "/2018-06-01", "/2018-06-01/runtime", "/2020-01-01/runtime/invocation/next", "/2018-06-01/runtime/invocation",
        "/2018-06-01/runtime/invocation/abc/other", "/2018-06-01/runtime/invocation/abc/response/more", "runtime/invocation/next",
        "/2018-06-01/extension/register",
    ])
    func unknownPathsAre404(path: String) {
        guard case .refuse(let refusal) = RuntimeAPIRouter.route(method: "POST", path: path, held: "abc") else {
            Issue.record("\(path) was routed")
            return
        }
        #expect(refusal.status == 404)
    }

    @Test func wrongMethodOnAResponseIs405() {
        guard case .refuse(let refusal) = RuntimeAPIRouter.route(
            method: "GET", path: "/2018-06-01/runtime/invocation/abc/response", held: "abc")
        else { Issue.record("GET response was accepted"); return }
        #expect(refusal.status == 405)
    }
}

import Foundation

/// What the warm-handler tests run: the official AWS Lambda Runtime Interface Client for Python
/// (`awslambdaric` 4.x, installed into `.build/venv` by `scripts/python-venv.sh`, which
/// `make test` runs), a small handler module, and a shell runtime that drives the API with curl.
public enum LambdaRuntimeFixtures {
    public static let venvPython = RepositoryPaths.root + "/.build/venv/bin/python"

    /// nil when awslambdaric can run, else why not (the tests that need it are skipped with it).
    public static let awslambdaricMissing: String? = {
        guard FileManager.default.isExecutableFile(atPath: venvPython) else {
            return "no \(venvPython): run scripts/python-venv.sh (make test does) to install awslambdaric"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: venvPython)
        process.arguments = ["-c", "import awslambdaric"]
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return "cannot run \(venvPython): \(error)" }
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : "awslambdaric does not import in \(venvPython); see scripts/python-venv.sh"
    }()

    public static var hasAwslambdaric: Bool { awslambdaricMissing == nil }

    /// `app.handler`: what a task's input asks for (`kind`) is what the function does.
    public static let handlerModule = """
        import os, sys, time

        def handler(event, context):
            kind = event.get("kind") if isinstance(event, dict) else None
            if kind == "raise":
                raise ValueError("bad n: %s" % event.get("n"))
            if kind == "sleep":
                print("sleeping", file=sys.stderr, flush=True)
                time.sleep(event["seconds"])
            if kind == "exit":
                print("dying now", file=sys.stderr, flush=True)
                os._exit(3)
            if kind == "remaining":
                return {"remaining": context.get_remaining_time_in_millis(), "request_id": context.aws_request_id,
                        "arn": context.invoked_function_arn}
            if kind == "env":
                return {name: os.environ.get(name) for name in event["names"]}
            if kind == "log":
                print("a line from the task", file=sys.stderr, flush=True)
            return {"echo": event, "pid": os.getpid()}
        """

    /// A module whose import fails: awslambdaric posts `/runtime/init/error` and exits.
    public static let brokenModule = "import no_such_module_anywhere\n\ndef handler(event, context):\n    return 1\n"

    /// The classic custom-runtime bootstrap: `/next` with curl, the input echoed back under
    /// `shell`. Before answering it tries what an intruder would: a request id it does not
    /// hold, an unknown path, and (when `OTHER_UID_FOR_TEST` is set, as root) a
    /// connection as another user; it reports the status codes it got.
    public static let curlBootstrap = #"""
        #!/bin/sh
        set -u
        api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
        headers=$(mktemp)
        while true; do
            body=$(curl -sS -D "$headers" "$api/invocation/next") || exit 1
            id=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$headers" | tr -d '\r' | cut -d' ' -f2)
            wrong=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$api/invocation/not-$id/response")
            missing=$(curl -s -o /dev/null -w '%{http_code}' "$api/no/such/thing")
            other=skipped
            if [ -n "${OTHER_UID_FOR_TEST:-}" ]; then
                other=$(setpriv --reuid="$OTHER_UID_FOR_TEST" --regid="$OTHER_UID_FOR_TEST" --clear-groups \
                    curl -s -o /dev/null -w '%{http_code}' "$api/invocation/next")
            fi
            curl -sS -X POST -H 'Content-Type: application/json' \
                -d "{\"shell\":$body,\"id\":\"$id\",\"wrong\":\"$wrong\",\"missing\":\"$missing\",\"other\":\"$other\",\"api\":\"$AWS_LAMBDA_RUNTIME_API\",\"uid\":$(id -u)}" \
                "$api/invocation/$id/response" >/dev/null || exit 1
        done
        """#
}

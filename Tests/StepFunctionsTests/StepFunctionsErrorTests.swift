import StepFunctions
import Testing

@Suite struct StepFunctionsErrorTests {
    @Test(arguments: [
        ("com.amazonaws.sfn#TaskTimedOut" as String?, nil as String?, "TaskTimedOut"),
        ("TaskTimedOut", nil, "TaskTimedOut"),
        ("ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/", nil, "ValidationException"),
        ("aws.protocoltests#ThrottlingException:http://x", nil, "ThrottlingException"),
        (nil, "InvalidToken:http://internal.amazon.com/coral/com.amazonaws.swf.service.v2.model/", "InvalidToken"),
        ("", "ActivityDoesNotExist", "ActivityDoesNotExist"),
        ("UnrecognizedClientException", "Ignored", "UnrecognizedClientException"),
    ])
    func errorNameIsStrippedOfNamespaceAndSuffix(type: String?, header: String?, expected: String) {
        #expect(StepFunctionsError.errorName(type: type, header: header) == expected)
    }

    @Test func noNameAtAll() {
        #expect(StepFunctionsError.errorName(type: nil, header: nil) == nil)
        #expect(StepFunctionsError.errorName(type: " ", header: "") == nil)
    }

    @Test(arguments: [
        ("ThrottlingException", 400, StepFunctionsError.Kind.throttled),
        ("Throttling", 400, .throttled),
        ("KmsThrottlingException", 400, .throttled),
        ("SomethingNew", 429, .throttled),
        ("HTTP500", 500, .transient),
        ("HTTP502", 502, .transient),
        ("ServiceUnavailable", 503, .transient),
        ("HTTP504", 504, .transient),
        ("HTTP509", 509, .transient),
        ("InternalFailure", 500, .transient),
        ("TaskTimedOut", 400, .taskGone),
        ("TaskDoesNotExist", 400, .taskGone),
        ("InvalidToken", 400, .taskGone),
        ("ActivityWorkerLimitExceeded", 400, .workerLimit),
        ("ValidationException", 400, .invalidRequest),
        ("InvalidOutput", 400, .invalidRequest),
        ("InvalidArn", 400, .invalidRequest),
        ("ActivityDoesNotExist", 400, .invalidRequest),
        ("UnrecognizedClientException", 403, .invalidRequest),
        ("InvalidSignatureException", 403, .invalidRequest),
        ("AccessDeniedException", 400, .invalidRequest),
        ("HTTP404", 404, .invalidRequest),
    ])
    func classifiesOnce(code: String, status: Int, expected: StepFunctionsError.Kind) {
        #expect(StepFunctionsError.classify(code: code, statusCode: status) == expected)
    }

    @Test func onlyThrottledAndTransientAreRetryable() {
        for kind in [StepFunctionsError.Kind.throttled, .transient, .taskGone, .workerLimit, .invalidRequest] {
            let error = StepFunctionsError(kind: kind, code: "X", message: "m", operation: "Op")
            #expect(error.isRetryable == (kind == .throttled || kind == .transient))
        }
    }

    @Test func descriptionKeepsTheServiceMessage() {
        let error = StepFunctionsError(
            kind: .invalidRequest, code: "ValidationException", message: "1 validation error detected", statusCode: 400,
            operation: "SendTaskSuccess")
        #expect(error.description == "SendTaskSuccess: ValidationException (HTTP 400): 1 validation error detected")
    }
}

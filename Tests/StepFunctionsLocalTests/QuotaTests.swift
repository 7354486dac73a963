import StepFunctions
import StepFunctionsLocal
import Testing

/// The account's quota as the service meters it: a token bucket per API, shared by every caller.
@Suite(.timeLimit(.minutes(1)))
struct TokenBucketTests {
    /// What `bucket` answers to calls at `times`, in order.
    func answers(_ limit: RateLimit, at times: [Duration]) -> [Bool] {
        var bucket = TokenBucket(limit)
        return times.map { bucket.take(at: $0) }
    }

    @Test func aFullBucketLetsTheBurstThroughThenThrottles() {
        #expect(answers(RateLimit(burst: 3, refillPerSecond: 1), at: [.zero, .zero, .zero, .zero, .milliseconds(999)])
            == [true, true, true, false, false])
    }

    @Test func tokensComeBackAtTheRefillRateAndNeverAboveTheBurst() {
        // 249 ms at 4/s is 0.996 of a token: not yet; 250 ms is one. An hour idle refills to
        // the burst (2), not to 14,400 tokens.
        let times: [Duration] = [.zero, .zero, .milliseconds(249), .milliseconds(250), .milliseconds(250),
                                 .seconds(3600), .seconds(3600), .seconds(3600)]
        #expect(answers(RateLimit(burst: 2, refillPerSecond: 4), at: times) == [true, true, false, true, false, true, true, false])
    }

    @Test func noRefillMeansTheBurstIsAllThereIs() {
        #expect(answers(RateLimit(burst: 1, refillPerSecond: 0), at: [.zero, .seconds(86_400)]) == [true, false])
    }
}

@Suite(.timeLimit(.minutes(1)))
struct RateLimitParsingTests {
    @Test func operationsWithBurstAndRefill() throws {
        #expect(try RateLimit.parse("GetActivityTask=120/20, SendTaskHeartbeat=60/2.5") == [
            "GetActivityTask": RateLimit(burst: 120, refillPerSecond: 20),
            "SendTaskHeartbeat": RateLimit(burst: 60, refillPerSecond: 2.5),
        ])
    }

    @Test(arguments: [
        ("GetActivityTask", #""GetActivityTask": expected OPERATION=BURST/REFILL, e.g. GetActivityTask=120/20"#),
        ("GetActivityTask=120/20,", #""": expected OPERATION=BURST/REFILL, e.g. GetActivityTask=120/20"#),
        ("GetTask=1/1", #""GetTask=1/1": unknown operation GetTask (one of CreateActivity, DescribeActivity, ListActivities, DeleteActivity, GetActivityTask, SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat)"#),
        ("GetActivityTask=0/1", #""GetActivityTask=0/1": BURST must be a whole number of at least 1 and REFILL a number of calls per second, at least 0"#),
        ("GetActivityTask=5/-1", #""GetActivityTask=5/-1": BURST must be a whole number of at least 1 and REFILL a number of calls per second, at least 0"#),
        ("GetActivityTask=5", #""GetActivityTask=5": BURST must be a whole number of at least 1 and REFILL a number of calls per second, at least 0"#),
        ("GetActivityTask=1/1,GetActivityTask=2/2", #""GetActivityTask=2/2": GetActivityTask is limited twice"#),
    ])
    func problemsNameTheItem(text: String, message: String) {
        #expect(throws: RateLimit.ParseError(description: message)) { try RateLimit.parse(text) }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct QuotaTests {
    /// Callers share the bucket; a throttled call is answered as the service does, and the real
    /// client classifies it as throttling. Other operations have buckets of their own.
    @Test func callsPastTheBucketAreThrottledLikeTheService() async throws {
        let configuration = LocalEndpointConfiguration(
            pollDuration: .milliseconds(50), rateLimits: ["ListActivities": RateLimit(burst: 2, refillPerSecond: 0)])
        try await withLocalEndpoint(configuration) { server, client in
            #expect(try await client.call("ListActivities", [:]).status == 200)
            #expect(try await client.call("ListActivities", [:]).status == 200)
            let throttled = try await client.call("ListActivities", [:])
            #expect(throttled.status == 400)
            #expect(throttled.errorType == "ThrottlingException")
            #expect(StepFunctionsError.classify(code: throttled.errorType ?? "", statusCode: throttled.status) == .throttled)
            #expect(try await client.call("CreateActivity", ["name": "unlimited"]).status == 200)
            let stats = await server.endpoint.stats()
            #expect(stats.throttled == ["ListActivities": 1])
            #expect(stats.requests["ListActivities"] == 3)
        }
    }
}

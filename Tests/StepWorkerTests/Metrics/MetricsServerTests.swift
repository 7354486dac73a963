import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import StepWorkerTestKit
import Testing

@testable import StepWorker

/// Scrapes over loopback, plus the routing decisions without I/O.
@Suite(.timeLimit(.minutes(1)))
struct MetricsServerTests {
    @Test func getMetricsAnswersTheRegistryOtherPathsAre404OtherMethods405() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = WorkerMetrics(factory: WorkerMetrics.prometheusFactory(registry: registry))
        metrics.activity("resize").finished(.succeeded)
        let server = try await MetricsServer.start(host: "127.0.0.1", port: 0, registry: registry, logger: Logger(label: "test"))
        let base = "http://127.0.0.1:\(server.port)"

        let scrape = try await HTTPScrape.request(base + "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(scrape.body.split(separator: "\n").contains(#"stepworker_tasks_total{activity="resize",outcome="succeeded"} 1"#))

        // Recorded between scrapes, shown by the next one: nothing is cached.
        metrics.activity("resize").finished(.succeeded)
        #expect(try await HTTPScrape.request(base + "/metrics?x=1").body.contains(#"outcome="succeeded"} 2"#))

        #expect(try await HTTPScrape.request(base + "/").status == 404)
        #expect(try await HTTPScrape.request(base + "/metrics/extra").status == 404)
        let post = try await HTTPScrape.request(base + "/metrics", method: .POST)
        #expect(post.status == 405)
        #expect(post.allow == "GET, HEAD")
        let head = try await HTTPScrape.request(base + "/metrics", method: .HEAD)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)

        await server.shutdown()
        // A closed port: async-http-client retries a refused connection until the deadline.
        await #expect(throws: (any Error).self) { _ = try await HTTPScrape.request(base + "/metrics", timeout: .seconds(1)) }
    }

    @Test func anAddressInUseIsABindErrorNamingTheKeyAndTheAddress() async throws {
        let registry = PrometheusCollectorRegistry()
        let first = try await MetricsServer.start(host: "127.0.0.1", port: 0, registry: registry, logger: Logger(label: "test"))
        do throws(MetricsServer.BindError) {
            let second = try await MetricsServer.start(host: "127.0.0.1", port: first.port, registry: registry, logger: Logger(label: "test"))
            await second.shutdown()
            Issue.record("a second listener on the same port must fail")
        } catch {
            #expect(error.address == "127.0.0.1:\(first.port)")
            #expect(error.description.hasPrefix("metrics.listen: cannot listen on 127.0.0.1:\(first.port): "), "\(error)")
            #expect(error.description.contains("in use"), "\(error)")
        }
        await first.shutdown()
    }

    @Test func ipv6AddressesAreBracketed() {
        #expect(MetricsServer.address("::1", 9464) == "[::1]:9464")
        #expect(MetricsServer.address("127.0.0.1", 9464) == "127.0.0.1:9464")
    }

    @Test func routing() {
        let registry = PrometheusCollectorRegistry()
        #expect(MetricsServer.respond(method: .GET, uri: "/metrics", registry: registry).status == .ok)
        #expect(MetricsServer.respond(method: .GET, uri: "/metrics?name[]=x", registry: registry).status == .ok)
        #expect(MetricsServer.respond(method: .HEAD, uri: "/metrics", registry: registry).status == .ok)
        #expect(MetricsServer.respond(method: .GET, uri: "/metricsx", registry: registry).status == .notFound)
        #expect(MetricsServer.respond(method: .DELETE, uri: "/other", registry: registry).status == .notFound)
        #expect(MetricsServer.respond(method: .PUT, uri: "/metrics", registry: registry).status == .methodNotAllowed)
    }
}

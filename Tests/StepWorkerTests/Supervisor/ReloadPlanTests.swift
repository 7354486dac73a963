import StepWorker
import StepWorkerTestKit
import Testing

/// What a reload changes, worked out from two configurations; no processes, no time.
@Suite(.timeLimit(.minutes(1)))
struct ReloadPlanTests {
    func load(_ toml: String) throws -> Configuration {
        try ConfigurationLoader(host: TestHostFacts()).load(text: toml, file: "/etc/stepworker/stepworker.toml")
    }

    func activity(_ name: String, _ extra: String = "") -> String {
        """
        [[activity]]
        arn = "arn:aws:states:us-east-1:123456789012:activity:\(name)"
        command = ["/bin/cat"]
        \(extra)

        """
    }

    @Test func activitiesAreMatchedByARN() throws {
        let old = try load(activity("kept") + activity("resized", "concurrency = 2") + activity("removed"))
        let new = try load(activity("added") + activity("kept") + activity("resized", "concurrency = 5\npollers = 3"))
        let plan = ReloadPlan(from: old, to: new)
        #expect(plan.added.map(\.name) == ["added"])
        #expect(plan.removed.map(\.name) == ["removed"])
        #expect(plan.updated.map(\.new.name) == ["resized"])
        #expect(plan.updated.first.map { $0.old.changedKeys(in: $0.new) } == ["concurrency", "pollers"])
        #expect(plan.needsRestart.isEmpty)
        #expect(!plan.isEmpty)
    }

    @Test func theSameConfigurationChangesNothing() throws {
        let text = "[worker]\nshutdown_grace = \"30s\"\n" + activity("one") + activity("two", "heartbeat = \"10s\"")
        let plan = ReloadPlan(from: try load(text), to: try load(text))
        #expect(plan.isEmpty)
        #expect(plan.needsRestart.isEmpty)
    }

    @Test func everyHandlerSettingIsAnUpdate() throws {
        let old = try load(activity("a"))
        let new = try load(activity("a", """
            name = "renamed"
            timeout = "5m"
            kill_grace = "3s"
            heartbeat = "20s"
            working_directory = "/tmp"
            environment = { MODE = "fast" }
            output = "text"
            max_output = "1KiB"
            exit_codes = { 3 = "Resize.TooLarge" }
            """))
        let plan = ReloadPlan(from: old, to: new)
        #expect(plan.added.isEmpty && plan.removed.isEmpty)
        #expect(plan.updated.first.map { $0.old.changedKeys(in: $0.new) } == [
            "name", "timeout", "kill_grace", "heartbeat", "working_directory", "environment", "output", "max_output", "exit_codes",
        ])
    }

    /// The service client and the outbox are made once at start: changing what they are made
    /// from refuses the reload as a whole, so the daemon never runs half a configuration.
    @Test func settingsTheRunningDaemonCannotTakeOverNeedARestart() throws {
        let old = try load("[aws]\nregion = \"us-east-1\"\n[worker]\nname = \"w1\"\n" + activity("a"))
        let new = try load("""
            [aws]
            region = "eu-west-1"
            endpoint = "http://127.0.0.1:9"
            use_fips = true
            [worker]
            name = "w2"
            state_directory = "/srv/stepworker"
            shutdown_grace = "10s"
            log_level = "debug"
            [metrics]
            listen = "127.0.0.1:9100"

            """ + activity("a"))
        let plan = ReloadPlan(from: old, to: new)
        #expect(plan.needsRestart == [
            "aws.region", "aws.endpoint", "aws.use_fips", "worker.name", "worker.state_directory", "metrics",
        ])
        // shutdown_grace and log_level are taken over live; the handlers' default working
        // directory follows state_directory
        #expect(plan.updated.map { $0.old.changedKeys(in: $0.new) } == [["working_directory"]])
    }
}

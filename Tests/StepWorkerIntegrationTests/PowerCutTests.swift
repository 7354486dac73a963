import Foundation
import Testing

/// The crash drill with the power cut instead of a SIGKILL: the state directory is on
/// `powercut-fs`, and at each random moment the daemon is frozen, the disk keeps only what was
/// fsynced, the daemon and its handlers die, and the machine "reboots" before the restart. The
/// same invariants as `ChaosTests` hold for the ledger that ships under both orders the file
/// system models: a journaled one (ext4 as Debian makes it) and POSIX's weaker one, where a
/// name change is durable only through its own directory's fsync (the ledger keeps one record
/// per task in one directory for that: docs/daemon.md). `STEPWORKER_CHAOS_BINARY` /
/// `STEPWORKER_CHAOS_WORKER_CONFIG`
/// run another ledger through it (docs/benchmark.md). Needs root, /dev/fuse, gcc, libfuse3-dev.
@Suite("Power cut", .enabled(if: PowerCutFileSystem.isAvailable, "needs root, /dev/fuse, gcc and libfuse3-dev (scripts/install-deps.sh); the reason is printed"))
struct PowerCutTests {
    @Test(.timeLimit(.minutes(2)), arguments: [PowerCutFileSystem.Order.journal, .directory])
    func shortRunEveryStartedTaskReachesOneOutcome(order: PowerCutFileSystem.Order) async throws {
        try await ChaosTests.drill(
            ChaosPlan.fromEnvironment(tasks: 80, kills: 3), powerCut: order)
    }

    @Test(
        .enabled(if: ProcessInfo.processInfo.environment["STEPWORKER_CHAOS_LONG"] == "1", "the long run: make test-chaos"),
        .timeLimit(.minutes(60)), arguments: [PowerCutFileSystem.Order.journal, .directory])
    func longRunEveryStartedTaskReachesOneOutcome(order: PowerCutFileSystem.Order) async throws {
        try await ChaosTests.drill(
            ChaosPlan.fromEnvironment(tasks: 1_500, kills: 20), powerCut: order)
    }
}

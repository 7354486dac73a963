import Foundation

/// What a chaos run does: how many tasks, how many SIGKILLs and when, seeded so a failing run
/// can be replayed (`STEPWORKER_CHAOS_SEED`). The timing of a kill against the daemon's work is
/// the machine's; the seed fixes the kill delays, the handlers' run times and the batches.
struct ChaosPlan: CustomStringConvertible {
    var seed: UInt64
    var tasks: Int
    var kills: Int
    var activities = 2
    var concurrency = 4
    /// The endpoint's per-task heartbeat timeout: a lost task ends TIMED_OUT this long after it
    /// was handed out; a restart must deliver `Worker.Interrupted` within it.
    var heartbeatSeconds = 10
    /// Milliseconds from READY=1 to the kill.
    var killDelay: ClosedRange<Int> = 100...1_200
    /// A task handed out at most this long before a kill and never started counts as lost in
    /// flight; anything older is a problem.
    var window: TimeInterval = 1.0

    /// The plan from `STEPWORKER_CHAOS_TASKS`, `_KILLS`, `_SEED` when set, else `tasks`/`kills`
    /// and a fresh seed.
    static func fromEnvironment(tasks: Int, kills: Int) -> ChaosPlan {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["STEPWORKER_CHAOS_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(UInt32.max))
        return ChaosPlan(
            seed: seed, tasks: environment["STEPWORKER_CHAOS_TASKS"].flatMap { Int($0) } ?? tasks,
            kills: environment["STEPWORKER_CHAOS_KILLS"].flatMap { Int($0) } ?? kills)
    }

    var description: String {
        "seed \(seed) (STEPWORKER_CHAOS_SEED=\(seed) replays it), \(tasks) tasks, \(kills) kills, "
            + "\(activities) activities x \(concurrency)"
    }
}

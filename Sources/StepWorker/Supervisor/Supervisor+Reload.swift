import Logging
import Synchronization
import Systemd

extension Supervisor {
    /// One reload: `RELOADING=1`, read and check the configuration, apply it or keep the running
    /// one, `READY=1`. Never interrupts a running handler.
    func performReload() {
        // Once stopping, systemd has been told (or is about to be told) STOPPING=1: neither
        // RELOADING=1 nor READY=1 may follow it. Both are queued under the lock `stop()` takes,
        // so they go out before STOPPING=1 or not at all.
        let status = counters.statusLine
        let started = state.withLock { state in
            if !state.stopping { notifier.reloading(status: "reloading; " + status) }
            return !state.stopping
        }
        guard started else {
            logger.notice("Reload ignored: stopping")
            return
        }
        let file = configuration.file
        logger.notice("Reloading the configuration", metadata: ["file": "\(file)"])
        defer {
            let status = counters.statusLine
            state.withLock { state in
                if !state.stopping { notifier.ready(status: status) }
            }
        }
        let new: Configuration
        do {
            new = try loadConfiguration()
        } catch {
            metrics.reloaded(.refused)
            logger.error("Reload refused: the configuration has problems; the running one stays", metadata: [
                "file": "\(file)", "error": "\(error)",
            ])
            return
        }
        switch apply(new) {
        case .applied(let plan, let otherChanges):
            metrics.reloaded(.applied)
            logPlan(plan)
            logger.notice("Reloaded", metadata: [
                "added": "\(plan.added.count)", "removed": "\(plan.removed.count)",
                "updated": "\(plan.updated.count)", "worker": "\(otherChanges.joined(separator: ","))",
            ])
        case .refused(let reason):
            metrics.reloaded(.refused)
            logger.error("Reload refused; the running configuration stays", metadata: ["file": "\(file)", "reason": "\(reason)"])
        case .stopping:
            logger.notice("Reload ignored: stopping")
        }
    }

    enum ReloadResult {
        /// `otherChanges`: the `[worker]` keys taken over, e.g. `shutdown_grace`.
        case applied(ReloadPlan, otherChanges: [String])
        case refused(String)
        case stopping
    }

    /// Takes `new` over, all or nothing.
    func apply(_ new: Configuration) -> ReloadResult {
        state.withLock { state in
            if state.stopping { return .stopping }
            let plan = ReloadPlan(from: state.configuration, to: new)
            if !plan.needsRestart.isEmpty {
                return .refused("changed settings need a restart (systemctl restart stepworker): "
                    + plan.needsRestart.joined(separator: ", "))
            }
            if let limit = connectionLimit {
                // Removed pools keep their running tasks (a heartbeat or result each) until they end.
                let retiring = state.retiring + state.active.filter { pool in plan.removed.contains { $0.arn == pool.activity.arn } }
                let needed = Self.connectionsNeeded(for: new.activities) + retiring.reduce(0) { $0 + $1.activity.concurrency }
                if needed > limit {
                    return .refused("the activities need \(needed) connections, more than the \(limit) this run was started with; restart instead")
                }
            }
            var otherChanges: [String] = []
            if state.configuration.worker.shutdownGrace != new.worker.shutdownGrace { otherChanges.append("shutdown_grace") }
            if state.configuration.worker.logLevel != new.worker.logLevel {
                otherChanges.append("log_level")
                logLevel?.level = new.worker.logLevel
            }

            var byARN = Dictionary(uniqueKeysWithValues: state.active.map { ($0.activity.arn, $0) })
            for removed in plan.removed {
                guard let pool = byARN.removeValue(forKey: removed.arn) else { continue }
                pool.drain()
                metrics.activity(removed.name).capacity(0)
                state.retiring.append(pool)
            }
            for update in plan.updated {
                byARN[update.new.arn]?.update(to: update.new)
            }
            for added in plan.added {
                let pool = makePool(added)
                byARN[added.arn] = pool
                poolStartsContinuation.yield(pool)
            }
            state.active = new.activities.compactMap { byARN[$0.arn] }
            state.configuration = new
            return .applied(plan, otherChanges: otherChanges)
        }
    }

    private func logPlan(_ plan: ReloadPlan) {
        for activity in plan.added {
            logger.notice("Activity added", metadata: [
                "STEPWORKER_ACTIVITY": "\(activity.name)", "concurrency": "\(activity.concurrency)", "pollers": "\(activity.pollers)",
            ])
        }
        for activity in plan.removed {
            logger.notice("Activity removed; draining it (running handlers finish)", metadata: [
                "STEPWORKER_ACTIVITY": "\(activity.name)",
            ])
        }
        for update in plan.updated {
            logger.notice("Activity updated; tasks received from now on use the new settings", metadata: [
                "STEPWORKER_ACTIVITY": "\(update.new.name)", "changed": "\(update.old.changedKeys(in: update.new).joined(separator: ","))",
                "concurrency": "\(update.new.concurrency)", "pollers": "\(update.new.pollers)",
            ])
        }
    }
}

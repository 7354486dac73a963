import FoundationEssentials

/// `CreateActivity`, `DescribeActivity`, `ListActivities`, `DeleteActivity`.
extension LocalEndpoint {
    /// Idempotent by name, as the service is: the same name answers the same ARN and date.
    public func createActivity(name: String) throws(LocalServiceError) -> LocalActivity {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        let arn = configuration.activityArn(name: name)
        if let existing = activities[arn] { return existing }
        let activity = LocalActivity(name: name, arn: arn, creationDate: now)
        activities[arn] = activity
        count("CreateActivity", activityArn: arn)
        return activity
    }

    public func describeActivity(arn: String) throws(LocalServiceError) -> LocalActivity {
        let activity = try existingActivity(arn)
        count("DescribeActivity", activityArn: arn)
        return activity
    }

    /// Activities sorted by name, `maxResults` (1...1000; 0 or nil means 100) at a time. The next
    /// token names the last activity of the page.
    public func listActivities(maxResults: Int?, nextToken: String?) throws(LocalServiceError) -> (
        activities: [LocalActivity], nextToken: String?
    ) {
        let limit = maxResults ?? 0
        guard (0...1000).contains(limit) else {
            throw .constraint("maxResults", "Member must have value less than or equal to 1000", value: String(limit))
        }
        let pageSize = limit == 0 ? 100 : limit
        var sorted = activities.values.sorted { $0.name < $1.name }
        if let nextToken {
            guard let data = Data(base64Encoded: nextToken), let after = String(data: data, encoding: .utf8),
                after.hasPrefix("after:")
            else { throw .invalidNextToken }
            let lastName = String(after.dropFirst("after:".count))
            sorted.removeAll { $0.name <= lastName }
        }
        let page = Array(sorted.prefix(pageSize))
        let next = sorted.count > pageSize ? page.last.map { Data("after:\($0.name)".utf8).base64EncodedString() } : nil
        return (page, next)
    }

    /// Deletes the activity. Polls waiting on it answer `{}` at once; its tasks stay as they are
    /// (started ones can still be completed; scheduled ones wait for their timeout).
    public func deleteActivity(arn: String) throws(LocalServiceError) {
        _ = try existingActivity(arn)
        count("DeleteActivity", activityArn: arn)
        activities[arn] = nil
        for waiter in pollWaiters.removeValue(forKey: arn) ?? [] {
            waiter.timer.cancel()
            waiter.continuation.resume(returning: nil)
        }
    }

    /// The activity at `arn`: `InvalidArn` when it is not an activity ARN at all,
    /// `ActivityDoesNotExist` when it is one but not of a current activity.
    func existingActivity(_ arn: String) throws(LocalServiceError) -> LocalActivity {
        guard Self.isActivityArn(arn) else { throw .invalidArn(arn) }
        guard let activity = activities[arn] else { throw .activityDoesNotExist(arn) }
        return activity
    }

    /// `arn:aws:states:<region>:<account>:activity:<name>` (any partition).
    static func isActivityArn(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false)
        return parts.count == 7 && parts[0] == "arn" && parts[1].hasPrefix("aws") && parts[2] == "states"
            && !parts[3].isEmpty && !parts[4].isEmpty && parts[5] == "activity" && isValidName(String(parts[6]))
    }

    /// 1 to 80 characters; no whitespace, brackets, wildcards, special or control characters.
    static func isValidName(_ name: String) -> Bool {
        let forbidden = Set(" <>{}[]?*\"#%\\^|~`$&,;:/")
        return (1...80).contains(name.count)
            && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || (0x7f...0x9f).contains($0.value) }
            && !name.contains { forbidden.contains($0) }
    }
}

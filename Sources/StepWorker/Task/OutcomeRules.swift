public import StepFunctions

/// The rules of DESIGN section 4's outcome table that depend on an activity's configuration.
public struct OutcomeRules: Sendable, Equatable {
    public var output: OutputMode
    public var maxOutput: Int
    public var exitCodes: [Int32: String]

    public init(output: OutputMode = .json, maxOutput: Int = TaskLimits.maxPayloadBytes, exitCodes: [Int32: String] = [:]) {
        self.output = output
        self.maxOutput = maxOutput
        self.exitCodes = exitCodes
    }

    public init(_ activity: ActivityConfiguration) {
        self.init(output: activity.output, maxOutput: activity.maxOutput, exitCodes: activity.exitCodes)
    }
}

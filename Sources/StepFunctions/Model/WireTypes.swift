import FoundationEssentials

/// The JSON 1.0 bodies of the activity operations, as the service defines them. The client
/// encodes requests and decodes responses with these; the local endpoint does the opposite.
public enum Wire {
    public struct GetActivityTaskInput: Codable, Sendable {
        public var activityArn: String
        public var workerName: String?
        public init(activityArn: String, workerName: String?) {
            self.activityArn = activityArn
            self.workerName = workerName
        }
    }

    public struct GetActivityTaskOutput: Codable, Sendable {
        public var taskToken: String?
        public var input: String?
        public init(taskToken: String?, input: String?) {
            self.taskToken = taskToken
            self.input = input
        }
    }

    public struct SendTaskSuccessInput: Codable, Sendable {
        public var taskToken: String
        public var output: String
        public init(taskToken: String, output: String) {
            self.taskToken = taskToken
            self.output = output
        }
    }

    public struct SendTaskFailureInput: Codable, Sendable {
        public var taskToken: String
        public var error: String?
        public var cause: String?
        public init(taskToken: String, error: String?, cause: String?) {
            self.taskToken = taskToken
            self.error = error
            self.cause = cause
        }
    }

    public struct TaskTokenInput: Codable, Sendable {
        public var taskToken: String
        public init(taskToken: String) { self.taskToken = taskToken }
    }

    public struct CreateActivityInput: Codable, Sendable {
        public var name: String
        public init(name: String) { self.name = name }
    }

    public struct CreateActivityOutput: Codable, Sendable {
        public var activityArn: String
        /// Seconds since 1970, as the JSON protocol writes timestamps.
        public var creationDate: Double
        public init(activityArn: String, creationDate: Double) {
            self.activityArn = activityArn
            self.creationDate = creationDate
        }
    }

    public struct ActivityArnInput: Codable, Sendable {
        public var activityArn: String
        public init(activityArn: String) { self.activityArn = activityArn }
    }

    public struct ActivityListItem: Codable, Sendable {
        public var activityArn: String
        public var name: String
        public var creationDate: Double
        public init(activityArn: String, name: String, creationDate: Double) {
            self.activityArn = activityArn
            self.name = name
            self.creationDate = creationDate
        }
    }

    public typealias DescribeActivityOutput = ActivityListItem

    public struct ListActivitiesInput: Codable, Sendable {
        public var maxResults: Int?
        public var nextToken: String?
        public init(maxResults: Int?, nextToken: String?) {
            self.maxResults = maxResults
            self.nextToken = nextToken
        }
    }

    public struct ListActivitiesOutput: Codable, Sendable {
        public var activities: [ActivityListItem]
        public var nextToken: String?
        public init(activities: [ActivityListItem], nextToken: String?) {
            self.activities = activities
            self.nextToken = nextToken
        }
    }

    /// `{}`: what the Send* and Delete operations answer.
    public struct Empty: Codable, Sendable {
        public init() {}
    }

    /// An error answer: `{"__type": "com.amazonaws.sfn#TaskTimedOut", "message": "…"}`.
    public struct ErrorBody: Codable, Sendable {
        public var type: String?
        public var message: String?

        public init(type: String, message: String) {
            self.type = type
            self.message = message
        }

        enum CodingKeys: String, CodingKey {
            case type = "__type"
            case message
            case capitalMessage = "Message"
            case code
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decodeIfPresent(String.self, forKey: .type)
                ?? container.decodeIfPresent(String.self, forKey: .code)
            message = try container.decodeIfPresent(String.self, forKey: .message)
                ?? container.decodeIfPresent(String.self, forKey: .capitalMessage)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(type, forKey: .type)
            try container.encodeIfPresent(message, forKey: .message)
        }
    }

    /// The content type of the JSON 1.0 protocol.
    public static let contentType = "application/x-amz-json-1.0"
    /// `X-Amz-Target` is this prefix, a dot, and the operation name.
    public static let targetPrefix = "AWSStepFunctions"
}

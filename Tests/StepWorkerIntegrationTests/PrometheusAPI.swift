/// The parts of Prometheus's HTTP API answers (`/api/v1/query`, `/rules`, `/alerts`) the tests read.
enum PrometheusAPI {
    struct QueryAnswer: Decodable {
        struct Vector: Decodable { var result: [Sample] }
        var status: String
        var data: Vector
    }

    /// One sample of an instant vector: `{"metric": {...}, "value": [time, "text"]}`.
    struct Sample: Decodable {
        var metric: [String: String]
        var value: Double

        enum CodingKeys: String, CodingKey { case metric, value }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            metric = try container.decode([String: String].self, forKey: .metric)
            var pair = try container.nestedUnkeyedContainer(forKey: .value)
            _ = try pair.decode(Double.self)
            value = Double(try pair.decode(String.self)) ?? .nan
        }
    }

    struct RulesAnswer: Decodable {
        struct Groups: Decodable { var groups: [Group] }
        struct Group: Decodable {
            var name: String
            var file: String
            var rules: [Rule]
        }
        struct Rule: Decodable {
            var name: String
            var type: String
            var health: String
            var lastError: String?
        }
        var status: String
        var data: Groups
    }

    struct AlertsAnswer: Decodable {
        struct Alerts: Decodable { var alerts: [Alert] }
        struct Alert: Decodable {
            var labels: [String: String]
            var state: String
        }
        var status: String
        var data: Alerts
    }
}

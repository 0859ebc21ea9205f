import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger code parse CODE`
    struct Code: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "GB/T 34014-2017 battery codes.", subcommands: [Parse.self])
    }
}

extension PackLedgerCommand.Code {
    /// `packledger code parse CODE`
    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a 24-character battery code and explain each field; errors name the bad position.")

        @OptionGroup var output: FormatOptions
        @Argument(help: "The code.") var code: String

        func run() throws {
            let parsed = try BatteryCode(code)
            switch output.format {
            case .json:
                Console.json(parsed.json)
            case .table:
                Console.table(["POSITIONS", "FIELD", "VALUE"], [
                    ["1–3", "manufacturer", parsed.manufacturer],
                    ["4", "product level", "\(parsed.level.rawValue) (\(parsed.level == .pack ? "pack" : parsed.level == .module ? "module" : "cell"))"],
                    ["5", "battery type", "\(parsed.batteryType) (\(parsed.batteryTypeMeaning))"],
                    ["6–7", "specification", parsed.specification],
                    ["8–14", "traceability information", parsed.traceability],
                    ["15", "production year character", String(parsed.year) + " (its year is not settled by public sources)"],
                    ["16", "production month", "\(parsed.month) (month \(parsed.monthNumber))"],
                    ["17", "production day", "\(parsed.day) (day \(parsed.dayNumber))"],
                    ["18–24", "serial number of the day", parsed.serial],
                ])
            }
        }
    }
}

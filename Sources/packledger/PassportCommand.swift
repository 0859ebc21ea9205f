import ArgumentParser
import PackLedgerKit

extension PackLedgerCommand {
    /// `packledger passport PACK`
    struct PassportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "passport", abstract: "The pack's battery-passport view: status, static and dynamic data, custodian, lineage.")

        @OptionGroup var ledger: LedgerOptions
        @OptionGroup var output: FormatOptions
        @Argument(help: "Pack id.") var pack: String

        func run() throws {
            let json = try Passport.json(ledger: ledger.open(readOnly: true), pack: pack)
            switch output.format {
            case .json:
                Console.json(json)
            case .table:
                let general = json["generalProductInformation"], performance = json["performanceAndDurability"]
                let lineage = json["circularity"]?["lineage"]
                func text(_ v: JSONValue?) -> String {
                    guard let v, !v.isNull else { return "-" }
                    return v.stringValue ?? CanonicalJSON.encodeString(v)
                }
                Console.table(["FIELD", "VALUE"], [
                    ["battery passport", pack], ["status", text(json["batteryStatus"])],
                    ["manufacturer", text(general?["manufacturerIdentification"]?["id"])], ["economic operator", text(general?["economicOperator"]?["id"])],
                    ["manufactured", text(general?["manufacturingDate"])], ["plant", text(general?["manufacturingPlace"])],
                    ["category / chemistry", "\(text(general?["batteryCategory"])) / \(text(json["materialComposition"]?["batteryChemistry"]))"],
                    ["mass kg / energy kWh", "\(text(general?["batteryMass"])) / \(text(performance?["ratedEnergy"]))"],
                    ["placed on market", text(general?["placedOnMarket"])],
                    ["state of health", text(performance?["stateOfHealth"]?["value"])],
                    ["custodian", text(json["lifecycle"]?["custodian"]?["id"])],
                    ["derived from", text(lineage?["derivedFrom"])], ["repurposed into", text(lineage?["repurposedInto"])],
                    ["events", String(json["lifecycle"]?["events"]?.arrayValue?.count ?? 0)],
                    ["ledger", "\(text(json["ledger"]?["origin"])) size \(text(json["ledger"]?["size"])) root \(text(json["ledger"]?["root"]))"],
                ])
            }
        }
    }
}

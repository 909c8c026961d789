using System.Text.Json;
using FedCore.Aggregation.Strategies;
using FedCore.Privacy;

namespace FedCore.Jobs;

/// <summary>
/// A training job as written in a job file (job.json). Paths are relative to the job file. Example:
/// <code>
/// { "name": "heart-logistic", "federation": "federation.json", "agreement": "heart-2026", "aggregatorCountry": "CH", "dataset": "heart",
///   "model": { "type": "logistic", "inputs": 15, "classes": 2 },
///   "rounds": 20, "strategy": { "name": "fedavg" },
///   "training": { "epochs": 5, "batchSize": 8, "optimizer": "sgd", "learningRate": 0.05 },
///   "trainFraction": 0.6667, "seed": 42, "protection": "plaintext-simulation" }
/// </code>
/// "participants" (ids) is optional: by default every participant of the federation that has the dataset. "agreement"
/// "training.privacy" ({ "clippingNorm": 1, "noiseMultiplier": 1.1, "delta": 1e-5 }, optional) trains with DP-SGD. "agreement"
/// names the data-sharing agreement the job runs under, "aggregatorCountry" the country whose silo runs the job and
/// receives the updates (the agreement must allow it).
/// </summary>
public sealed record JobDefinition(
    string Name,
    string FilePath,
    FederationManifest Federation,
    string DatasetName,
    IReadOnlyList<string> ParticipantIds,
    string ModelJson,
    int Rounds,
    StrategyOptions Strategy,
    LocalTrainingDefinition Training,
    double TrainFraction,
    int Seed,
    string Protection,
    double UpdateBound,
    string Agreement,
    string AggregatorCountry)
{
    /// <summary>
    /// Default bound on the magnitude of an update value (local model − global model). It sets the CKKS scale:
    /// larger bounds cost precision (see FedCore/Crypto/Multiparty/NoiseFlooding.md).
    /// </summary>
    public const double DefaultUpdateBound = 4.0;

    public static JobDefinition Load(string filePath)
    {
        using var document = JsonFileReader.Open(filePath);
        var json = new JsonFileReader(filePath);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw json.Error("$", "must be a JSON object");
        json.RejectUnknown(root, "$", "name", "description", "federation", "agreement", "aggregatorCountry", "dataset", "participants", "model", "rounds",
            "strategy", "training", "trainFraction", "seed", "protection", "updateBound");

        var federationPath = json.ResolvePath(json.String(root, "federation", "$"));
        FederationManifest federation;
        try
        {
            federation = FederationManifest.Load(federationPath);
        }
        catch (JobFileException e) when (e.FilePath == federationPath)
        {
            throw new JobFileException(filePath, "$.federation", $"the federation file cannot be used: {e.Message}", e);
        }

        var dataset = json.String(root, "dataset", "$");
        List<string> participants;
        if (root.TryGetProperty("participants", out var listed) && listed.ValueKind != JsonValueKind.Null)
        {
            participants = [];
            int i = 0;
            foreach (var p in json.Array(root, "participants", "$").EnumerateArray())
            {
                var path = $"$.participants[{i++}]";
                if (p.ValueKind != JsonValueKind.String)
                    throw json.Error(path, "must be a participant id string such as \"HU/budapest\"");
                var id = p.GetString()!;
                var member = federation.Participants.FirstOrDefault(m => m.Id == id)
                    ?? throw json.Error(path, $"'{id}' is not a participant of federation '{federation.Name}' ({federationPath})");
                if (member.Datasets.All(d => d.Name != dataset))
                    throw json.Error(path, $"participant '{id}' has no dataset '{dataset}'");
                if (participants.Contains(id))
                    throw json.Error(path, $"participant '{id}' is listed twice");
                participants.Add(id);
            }
        }
        else
        {
            participants = federation.Participants.Where(p => p.Datasets.Any(d => d.Name == dataset)).Select(p => p.Id).ToList();
        }
        if (participants.Count == 0)
            throw json.Error("$.dataset", $"no participant of federation '{federation.Name}' has a dataset '{dataset}'");

        var model = json.Object(root, "model", "$").GetRawText();

        var strategyElement = json.Object(root, "strategy", "$");
        json.RejectUnknown(strategyElement, "$.strategy", "name", "serverLearningRate", "beta1", "beta2", "tau");
        var defaults = new StrategyOptions("fedavg");
        var strategy = new StrategyOptions(
            json.String(strategyElement, "name", "$.strategy"),
            json.Number(strategyElement, "serverLearningRate", "$.strategy", DefaultServerLearningRate(json.String(strategyElement, "name", "$.strategy"))),
            json.Number(strategyElement, "beta1", "$.strategy", defaults.Beta1),
            json.Number(strategyElement, "beta2", "$.strategy", defaults.Beta2),
            json.Number(strategyElement, "tau", "$.strategy", defaults.Tau));
        try
        {
            strategy.Validate();
        }
        catch (ArgumentException e)
        {
            throw json.Error("$.strategy", e.Message);
        }

        var t = json.Object(root, "training", "$");
        json.RejectUnknown(t, "$.training", "epochs", "batchSize", "optimizer", "learningRate", "momentum", "weightDecay", "proximalMu", "privacy");
        var training = new LocalTrainingDefinition(
            json.Integer(t, "epochs", "$.training", min: 1),
            json.Integer(t, "batchSize", "$.training", min: 1),
            json.String(t, "optimizer", "$.training"),
            json.Number(t, "learningRate", "$.training"),
            json.Number(t, "momentum", "$.training", 0),
            json.Number(t, "weightDecay", "$.training", 0),
            json.Number(t, "proximalMu", "$.training", 0),
            Privacy(json, t));

        var trainFraction = json.Number(root, "trainFraction", "$", 2.0 / 3.0);
        if (!(trainFraction > 0 && trainFraction < 1))
            throw json.Error("$.trainFraction", $"must lie strictly between 0 and 1, not {trainFraction}");

        return new JobDefinition(
            json.String(root, "name", "$"),
            Path.GetFullPath(filePath),
            federation,
            dataset,
            participants,
            model,
            json.Integer(root, "rounds", "$", min: 1),
            strategy,
            training,
            trainFraction,
            json.Integer(root, "seed", "$", 0),
            json.OptionalString(root, "protection", "$") ?? "ckks",
            PositiveNumber(json, root, "updateBound", DefaultUpdateBound),
            json.String(root, "agreement", "$"),
            CountryCode(json, root, "aggregatorCountry"));
    }

    /// <summary>The optional <c>training.privacy</c> section: DP-SGD's clipping norm, noise multiplier and δ.</summary>
    private static DpSgdParameters? Privacy(JsonFileReader json, JsonElement training)
    {
        if (!training.TryGetProperty("privacy", out var section) || section.ValueKind == JsonValueKind.Null)
            return null;
        var p = json.Object(training, "privacy", "$.training");
        json.RejectUnknown(p, "$.training.privacy", "clippingNorm", "noiseMultiplier", "delta");
        var parameters = new DpSgdParameters(
            json.Number(p, "clippingNorm", "$.training.privacy"), json.Number(p, "noiseMultiplier", "$.training.privacy"), json.Number(p, "delta", "$.training.privacy"));
        return parameters.Problem() is { } problem ? throw json.Error("$.training.privacy", problem) : parameters;
    }

    private static string CountryCode(JsonFileReader json, JsonElement root, string name)
    {
        var value = json.String(root, name, "$");
        return value.Length == 2 && char.IsAsciiLetterUpper(value[0]) && char.IsAsciiLetterUpper(value[1])
            ? value
            : throw json.Error($"$.{name}", $"'{value}' is not an ISO 3166-1 alpha-2 country code in capitals (e.g. 'CH')");
    }

    private static double PositiveNumber(JsonFileReader json, JsonElement root, string name, double fallback)
    {
        var value = json.Number(root, name, "$", fallback);
        return value > 0 ? value : throw json.Error($"$.{name}", $"must be a positive number, not {value}");
    }

    /// <summary>FedAvg takes the plain mean (η = 1); the adaptive optimisers start from Reddi et al.'s η = 0.1.</summary>
    private static double DefaultServerLearningRate(string strategy) =>
        strategy.ToLowerInvariant() is "fedavg" or "fedprox" ? 1.0 : 0.1;
}

/// <summary>The local training section of a job file; the learning layer validates the values.</summary>
public sealed record LocalTrainingDefinition(
    int Epochs,
    int BatchSize,
    string Optimizer,
    double LearningRate,
    double Momentum,
    double WeightDecay,
    double ProximalMu,
    DpSgdParameters? Privacy = null);

using StripeSync.Bench;

// The benchmark suite (issue 7): every scenario renders its own section of BENCHMARKS.md; this file only picks
// which to run and hands their sections to the report, which keeps the sections of scenarios not run.
//   dotnet run -c Release --project bench/StripeSync.Bench -- --scenarios all [--quick] [--postgres "Host=…"]
var options = BenchOptions.Parse(args);
var scenarios = new (int Number, string Name, Func<BenchOptions, Task<string>> RunAsync)[]
{
    (1, "import", ImportScenario.RunAsync),
    (2, "limits", LimitsScenario.RunAsync),
    (3, "webhooks", WebhooksScenario.RunAsync),
    (4, "queries", QueriesScenario.RunAsync),
    (5, "peer", PeerScenario.RunAsync),
    (6, "pages", PagesScenario.RunAsync),
};

var chosen = options.Scenarios.Contains("all")
    ? scenarios
    : scenarios.Where(s => options.Scenarios.Contains(s.Name)).ToArray();
var unknown = options.Scenarios.Except(scenarios.Select(s => s.Name).Append("all")).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown scenario(s): {string.Join(", ", unknown)}. Known: all, {string.Join(", ", scenarios.Select(s => s.Name))}.");
    return 2;
}

var sections = new Dictionary<int, string>();
foreach (var scenario in chosen)
{
    Console.WriteLine($"== scenario {scenario.Number}: {scenario.Name}");
    var started = DateTime.UtcNow;
    sections[scenario.Number] = await scenario.RunAsync(options);
    Console.WriteLine($"== scenario {scenario.Number} took {(DateTime.UtcNow - started).TotalMinutes:N1} min");

    // Written after each scenario, so a long run that dies later still leaves what it measured.
    await Report.WriteAsync(options.Output, sections);
}

Console.WriteLine($"Wrote {options.Output}");
return 0;

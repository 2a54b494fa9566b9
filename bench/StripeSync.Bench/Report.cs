using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace StripeSync.Bench;

/// <summary>
/// BENCHMARKS.md as a header plus one section per scenario ("## N. Title" up to the next "## N."). A run
/// replaces only the sections of the scenarios it ran; every other section, including those written by
/// scenarios this build does not know, is kept as it was.
/// </summary>
public static partial class Report
{
    public static async Task WriteAsync(string path, IReadOnlyDictionary<int, string> fresh)
    {
        var sections = File.Exists(path) ? Split(await File.ReadAllTextAsync(path)) : [];
        foreach (var (number, text) in fresh)
        {
            sections[number] = text.TrimEnd() + Environment.NewLine;
        }

        var report = new StringBuilder()
            .AppendLine("# Benchmarks")
            .AppendLine()
            .AppendLine("One command runs every scenario and rewrites this file: `dotnet run -c Release --project bench/StripeSync.Bench -- --scenarios all` " +
                "(`--scenarios import,webhooks,queries` picks some, `--quick` is a smoke-sized run, `--postgres \"Host=…\"` or `STRIPESYNC_BENCH_POSTGRES` adds PostgreSQL). " +
                "A run rewrites only the sections of the scenarios it ran; each section says when and how it was measured.")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"Machine of the latest run ({DateTime.UtcNow:yyyy-MM-dd}): {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024 * 1024.0):N0} GiB, " +
                $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; shared and noisy, so read ratios, not absolutes.");
        foreach (var (_, text) in sections.OrderBy(s => s.Key))
        {
            report.AppendLine().Append(text);
        }

        await File.WriteAllTextAsync(path, report.ToString());
    }

    private static SortedDictionary<int, string> Split(string markdown)
    {
        var sections = new SortedDictionary<int, string>();
        int? current = null;
        var text = new StringBuilder();
        foreach (var line in markdown.Split('\n'))
        {
            var heading = SectionHeading().Match(line);
            if (heading.Success)
            {
                Flush();
                current = int.Parse(heading.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            if (current is not null)
            {
                text.Append(line.TrimEnd('\r')).Append('\n');
            }
        }

        Flush();
        return sections;

        void Flush()
        {
            if (current is int number)
            {
                sections[number] = text.ToString().TrimEnd() + Environment.NewLine;
            }

            text.Clear();
        }
    }

    [GeneratedRegex(@"^## (\d+)\.")]
    private static partial Regex SectionHeading();
}

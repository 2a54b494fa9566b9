namespace StripeSync.Core.Segments;

/// <summary>A custom segment: a name and a <see cref="SegmentDefinition"/> (as JSON). Evaluated per mode, so one segment serves live and test data.</summary>
public sealed class Segment
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public required string DefinitionJson { get; set; }
    public long CreatedAt { get; set; }
    public long UpdatedAt { get; set; }
}

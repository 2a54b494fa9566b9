using StripeSync.Core.Ingestion;
using StripeSync.Core.Ingestion.Backfill;

namespace StripeSync.Tests.Ingestion;

public sealed class ImportSpanTests
{
    private static readonly BackfillCursor Type = new() { NewestCreated = 999, OldestCreated = 0 };

    [Fact]
    public void The_share_walked_sums_every_slice_from_its_top_down_to_where_it_has_reached()
    {
        // [0, 1000): the newest slice [600, ∞) walked down to 800, [300, 600) done, [0, 300) down to 150.
        BackfillSlice[] slices =
        [
            new() { From = 600, Reached = 800 },
            new() { From = 300, Before = 600, Done = true },
            new() { From = 0, Before = 300, Reached = 150 },
        ];

        Assert.Equal((200 + 300 + 150) / 1000d, ImportSpan.Fraction(Type, slices));
    }

    [Fact]
    public void A_slice_not_started_adds_nothing_and_a_finished_type_is_whole()
    {
        BackfillSlice[] slices = [new() { From = 500, Reached = 500 }, new() { From = 0, Before = 500 }];

        Assert.Equal(0.5, ImportSpan.Fraction(Type, slices));
        Assert.Equal(1, ImportSpan.Fraction(new BackfillCursor { Done = true }, []));
    }

    [Fact]
    public void The_share_is_unknown_until_the_open_slice_has_found_the_oldest_object()
    {
        Assert.Null(ImportSpan.Fraction(Type, [new() { From = 500, Reached = 700 }, new() { Before = 500, Reached = 400 }]));
        Assert.Null(ImportSpan.Fraction(new BackfillCursor { OldestCreated = 0 }, [new() { From = 0, Reached = 10 }]));
    }

    [Fact]
    public void Seconds_left_follow_the_pace_so_far()
    {
        Assert.Null(ImportSpan.SecondsLeft(null, 30));
        Assert.Null(ImportSpan.SecondsLeft(0, 30));
        Assert.Null(ImportSpan.SecondsLeft(1, 30));
        Assert.Equal(30, ImportSpan.SecondsLeft(0.25, 10));
    }
}

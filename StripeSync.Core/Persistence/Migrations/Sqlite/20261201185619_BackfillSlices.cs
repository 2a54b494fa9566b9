using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StripeSync.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class BackfillSlices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "backfill_slices",
                columns: table => new
                {
                    ConnectionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Type = table.Column<int>(type: "INTEGER", nullable: false),
                    Slice = table.Column<int>(type: "INTEGER", nullable: false),
                    From = table.Column<long>(type: "INTEGER", nullable: true),
                    Before = table.Column<long>(type: "INTEGER", nullable: true),
                    Cursor = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    Reached = table.Column<long>(type: "INTEGER", nullable: true),
                    Done = table.Column<bool>(type: "INTEGER", nullable: false),
                    Pages = table.Column<int>(type: "INTEGER", nullable: false),
                    Fetched = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_backfill_slices", x => new { x.ConnectionId, x.Type, x.Slice });
                });

            // An import under way goes on where it stopped: its one chain per type becomes that type's first slice,
            // and the oldest object it reached is the oldest fetched so far.
            migrationBuilder.Sql("""
                INSERT INTO backfill_slices ("ConnectionId", "Type", "Slice", "From", "Before", "Cursor", "Reached", "Done", "Pages", "Fetched")
                SELECT "ConnectionId", "Type", 0, NULL, NULL, "Cursor", "ReachedCreated", "Done", "Pages", "Fetched" FROM backfill_cursors
                """);
            migrationBuilder.Sql("""UPDATE backfill_cursors SET "OldestCreated" = "ReachedCreated" """);

            migrationBuilder.DropColumn(
                name: "Cursor",
                table: "backfill_cursors");

            migrationBuilder.DropColumn(
                name: "ReachedCreated",
                table: "backfill_cursors");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "backfill_slices");

            migrationBuilder.AddColumn<string>(
                name: "Cursor",
                table: "backfill_cursors",
                type: "TEXT",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ReachedCreated",
                table: "backfill_cursors",
                type: "INTEGER",
                nullable: true);
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StripeSync.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ImportSpan : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "NewestCreated",
                table: "backfill_cursors",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "OldestCreated",
                table: "backfill_cursors",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ReachedCreated",
                table: "backfill_cursors",
                type: "bigint",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "NewestCreated",
                table: "backfill_cursors");

            migrationBuilder.DropColumn(
                name: "OldestCreated",
                table: "backfill_cursors");

            migrationBuilder.DropColumn(
                name: "ReachedCreated",
                table: "backfill_cursors");
        }
    }
}

using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StripeSync.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddSegments : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "segments",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    DefinitionJson = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_segments", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_LastActivity",
                table: "people",
                columns: new[] { "Mode", "LastActivity" });

            migrationBuilder.CreateIndex(
                name: "IX_metric_events_PersonId_Metric_Time",
                table: "metric_events",
                columns: new[] { "PersonId", "Metric", "Time" });

            migrationBuilder.CreateIndex(
                name: "IX_segments_Name",
                table: "segments",
                column: "Name",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "segments");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_LastActivity",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_metric_events_PersonId_Metric_Time",
                table: "metric_events");
        }
    }
}

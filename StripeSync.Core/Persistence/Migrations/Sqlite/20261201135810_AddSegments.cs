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
            migrationBuilder.AddColumn<int>(
                name: "ActiveSubscriptions",
                table: "people",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LastOrderAt",
                table: "people",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "PastDueSubscriptions",
                table: "people",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "StripeCustomerId",
                table: "people",
                type: "TEXT",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SubscriptionStatus",
                table: "people",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "TrialEnd",
                table: "people",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "TrialingSubscriptions",
                table: "people",
                type: "INTEGER",
                nullable: true);

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
                name: "IX_people_Mode_ActiveSubscriptions",
                table: "people",
                columns: new[] { "Mode", "ActiveSubscriptions" });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_LastActivity",
                table: "people",
                columns: new[] { "Mode", "LastActivity" });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_LastOrderAt",
                table: "people",
                columns: new[] { "Mode", "LastOrderAt" });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_PastDueSubscriptions",
                table: "people",
                columns: new[] { "Mode", "PastDueSubscriptions" });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_SubscriptionStatus",
                table: "people",
                columns: new[] { "Mode", "SubscriptionStatus" });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_TrialEnd",
                table: "people",
                columns: new[] { "Mode", "TrialEnd" });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_TrialingSubscriptions",
                table: "people",
                columns: new[] { "Mode", "TrialingSubscriptions" });

            migrationBuilder.CreateIndex(
                name: "IX_metric_events_PersonId_Metric_Time",
                table: "metric_events",
                columns: new[] { "PersonId", "Metric", "Time" });

            migrationBuilder.CreateIndex(
                name: "IX_segments_Name",
                table: "segments",
                column: "Name",
                unique: true);

            // People derived before this migration get their promoted columns from the fields they already have.
            migrationBuilder.Sql("""
                UPDATE people SET
                    "StripeCustomerId" = json_extract("FieldsJson", '$.stripe_customer_id'),
                    "SubscriptionStatus" = json_extract("FieldsJson", '$.stripe_subscription_status'),
                    "ActiveSubscriptions" = json_extract("FieldsJson", '$.stripe_subscription_active'),
                    "TrialingSubscriptions" = json_extract("FieldsJson", '$.stripe_subscription_trial'),
                    "PastDueSubscriptions" = json_extract("FieldsJson", '$.stripe_subscription_past_due'),
                    "TrialEnd" = CAST(strftime('%s', json_extract("FieldsJson", '$.stripe_trial_end')) AS INTEGER) * 1000,
                    "LastOrderAt" = CAST(strftime('%s', json_extract("FieldsJson", '$.stripe_last_create_order_date')) AS INTEGER) * 1000;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "segments");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_ActiveSubscriptions",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_LastActivity",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_LastOrderAt",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_PastDueSubscriptions",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_SubscriptionStatus",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_TrialEnd",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_TrialingSubscriptions",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_metric_events_PersonId_Metric_Time",
                table: "metric_events");

            migrationBuilder.DropColumn(
                name: "ActiveSubscriptions",
                table: "people");

            migrationBuilder.DropColumn(
                name: "LastOrderAt",
                table: "people");

            migrationBuilder.DropColumn(
                name: "PastDueSubscriptions",
                table: "people");

            migrationBuilder.DropColumn(
                name: "StripeCustomerId",
                table: "people");

            migrationBuilder.DropColumn(
                name: "SubscriptionStatus",
                table: "people");

            migrationBuilder.DropColumn(
                name: "TrialEnd",
                table: "people");

            migrationBuilder.DropColumn(
                name: "TrialingSubscriptions",
                table: "people");
        }
    }
}

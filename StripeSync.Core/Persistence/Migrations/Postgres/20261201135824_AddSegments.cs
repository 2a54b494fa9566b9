using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StripeSync.Core.Persistence.Migrations.Postgres
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
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LastOrderAt",
                table: "people",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "PastDueSubscriptions",
                table: "people",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "StripeCustomerId",
                table: "people",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SubscriptionStatus",
                table: "people",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "TrialEnd",
                table: "people",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "TrialingSubscriptions",
                table: "people",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "segments",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    DefinitionJson = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<long>(type: "bigint", nullable: false),
                    UpdatedAt = table.Column<long>(type: "bigint", nullable: false)
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
                    "StripeCustomerId" = "FieldsJson"::jsonb ->> 'stripe_customer_id',
                    "SubscriptionStatus" = "FieldsJson"::jsonb ->> 'stripe_subscription_status',
                    "ActiveSubscriptions" = ("FieldsJson"::jsonb ->> 'stripe_subscription_active')::integer,
                    "TrialingSubscriptions" = ("FieldsJson"::jsonb ->> 'stripe_subscription_trial')::integer,
                    "PastDueSubscriptions" = ("FieldsJson"::jsonb ->> 'stripe_subscription_past_due')::integer,
                    "TrialEnd" = (extract(epoch FROM ("FieldsJson"::jsonb ->> 'stripe_trial_end')::timestamptz) * 1000)::bigint,
                    "LastOrderAt" = (extract(epoch FROM ("FieldsJson"::jsonb ->> 'stripe_last_create_order_date')::timestamptz) * 1000)::bigint;
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

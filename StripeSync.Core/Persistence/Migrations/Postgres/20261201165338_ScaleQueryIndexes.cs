using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StripeSync.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ScaleQueryIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_metric_events_Mode_Metric_Day",
                table: "metric_events");

            migrationBuilder.CreateIndex(
                name: "IX_person_customers_CustomerId",
                table: "person_customers",
                column: "CustomerId");

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_StripeCustomerId",
                table: "people",
                columns: new[] { "Mode", "StripeCustomerId" });

            migrationBuilder.CreateIndex(
                name: "IX_metric_events_Mode_Metric_Day_Currency_Amount",
                table: "metric_events",
                columns: new[] { "Mode", "Metric", "Day", "Currency", "Amount" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_person_customers_CustomerId",
                table: "person_customers");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_StripeCustomerId",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_metric_events_Mode_Metric_Day_Currency_Amount",
                table: "metric_events");

            migrationBuilder.CreateIndex(
                name: "IX_metric_events_Mode_Metric_Day",
                table: "metric_events",
                columns: new[] { "Mode", "Metric", "Day" });
        }
    }
}

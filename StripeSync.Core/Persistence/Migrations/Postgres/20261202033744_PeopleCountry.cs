using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StripeSync.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class PeopleCountry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Country",
                table: "people",
                type: "text",
                nullable: true);

            // People derived before this migration: the column from their JSON, as Person.SetFields writes it (Stripe's
            // country codes are ASCII, where the database's lower() and ToLowerInvariant agree). Filled before the index
            // is built, so the index is written once.
            migrationBuilder.Sql("""
                UPDATE people SET "Country" = lower("FieldsJson"::jsonb ->> 'country')
                WHERE jsonb_typeof("FieldsJson"::jsonb -> 'country') = 'string';
                """);

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_Country",
                table: "people",
                columns: new[] { "Mode", "Country" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_people_Mode_Country",
                table: "people");

            migrationBuilder.DropColumn(
                name: "Country",
                table: "people");
        }
    }
}

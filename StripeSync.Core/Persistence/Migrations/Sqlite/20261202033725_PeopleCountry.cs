using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StripeSync.Core.Persistence.Migrations.Sqlite
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
                type: "TEXT",
                nullable: true);

            // People derived before this migration: the column from their JSON, as Person.SetFields writes it (Stripe's
            // country codes are ASCII, where the database's lower() and ToLowerInvariant agree). Filled before the index
            // is built, so the index is written once.
            migrationBuilder.Sql("""
                UPDATE people SET "Country" = lower(json_extract("FieldsJson", '$.country'))
                WHERE json_type("FieldsJson", '$.country') = 'text';
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

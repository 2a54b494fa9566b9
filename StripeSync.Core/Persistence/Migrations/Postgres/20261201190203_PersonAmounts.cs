using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StripeSync.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class PersonAmounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Parsed once here instead of at every segment read (EF's AlterColumn has no USING, which text → jsonb needs).
            migrationBuilder.Sql("""ALTER TABLE people ALTER COLUMN "FieldsJson" TYPE jsonb USING "FieldsJson"::jsonb;""");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_LastActivity",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_TrialEnd",
                table: "people");

            migrationBuilder.AlterDatabase()
                .Annotation("Npgsql:PostgresExtension:pg_trgm", ",,");

            migrationBuilder.CreateTable(
                name: "person_amounts",
                columns: table => new
                {
                    PersonId = table.Column<Guid>(type: "uuid", nullable: false),
                    Token = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Currency = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: false),
                    Mode = table.Column<int>(type: "integer", nullable: false),
                    Amount = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_person_amounts", x => new { x.PersonId, x.Token, x.Currency });
                    table.ForeignKey(
                        name: "FK_person_amounts_people_PersonId",
                        column: x => x.PersonId,
                        principalTable: "people",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            // People derived before this migration: their money fields, from the same JSON SetFields reads (integers only).
            foreach (var token in new[] { "stripe_mrr", "stripe_total_sales" })
            {
                migrationBuilder.Sql($$"""
                    INSERT INTO person_amounts ("PersonId", "Mode", "Token", "Currency", "Amount")
                    SELECT p."Id", p."Mode", '{{token}}', j.key, (j.value #>> '{}')::bigint
                    FROM people AS p
                    CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(p."FieldsJson"::jsonb -> '{{token}}') = 'object'
                        THEN p."FieldsJson"::jsonb -> '{{token}}' ELSE '{}'::jsonb END) AS j
                    WHERE jsonb_typeof(j.value) = 'number' AND (j.value #>> '{}') ~ '^-?[0-9]{1,18}$';
                    """);
            }

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_LastActivity_ActiveSubscriptions_PastDueSubscri~",
                table: "people",
                columns: new[] { "Mode", "LastActivity", "ActiveSubscriptions", "PastDueSubscriptions", "TrialingSubscriptions" });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_TrialEnd_SubscriptionStatus",
                table: "people",
                columns: new[] { "Mode", "TrialEnd", "SubscriptionStatus" });

            migrationBuilder.CreateIndex(
                name: "IX_people_SearchText_trgm",
                table: "people",
                column: "SearchText")
                .Annotation("Npgsql:IndexMethod", "gin")
                .Annotation("Npgsql:IndexOperators", new[] { "gin_trgm_ops" });

            migrationBuilder.CreateIndex(
                name: "IX_person_amounts_Mode_Token_Currency_Amount_PersonId",
                table: "person_amounts",
                columns: new[] { "Mode", "Token", "Currency", "Amount", "PersonId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""ALTER TABLE people ALTER COLUMN "FieldsJson" TYPE text USING "FieldsJson"::text;""");

            migrationBuilder.DropTable(
                name: "person_amounts");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_LastActivity_ActiveSubscriptions_PastDueSubscri~",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_TrialEnd_SubscriptionStatus",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_SearchText_trgm",
                table: "people");

            migrationBuilder.AlterDatabase()
                .OldAnnotation("Npgsql:PostgresExtension:pg_trgm", ",,");

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_LastActivity",
                table: "people",
                columns: new[] { "Mode", "LastActivity" });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_TrialEnd",
                table: "people",
                columns: new[] { "Mode", "TrialEnd" });
        }
    }
}

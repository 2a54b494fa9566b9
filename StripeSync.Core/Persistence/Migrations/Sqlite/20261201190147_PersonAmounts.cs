using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace StripeSync.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PersonAmounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_people_Mode_LastActivity",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_TrialEnd",
                table: "people");

            migrationBuilder.CreateTable(
                name: "person_amounts",
                columns: table => new
                {
                    PersonId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Token = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Currency = table.Column<string>(type: "TEXT", maxLength: 3, nullable: false),
                    Mode = table.Column<int>(type: "INTEGER", nullable: false),
                    Amount = table.Column<long>(type: "INTEGER", nullable: false)
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
                migrationBuilder.Sql($"""
                    INSERT INTO person_amounts ("PersonId", "Mode", "Token", "Currency", "Amount")
                    SELECT p."Id", p."Mode", '{token}', j.key, j.value
                    FROM people AS p, json_each(p."FieldsJson", '$.{token}') AS j
                    WHERE json_type(p."FieldsJson", '$.{token}') = 'object' AND j.type = 'integer';
                    """);
            }

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_Key_SearchText",
                table: "people",
                columns: new[] { "Mode", "Key", "SearchText" });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_LastActivity_ActiveSubscriptions_PastDueSubscriptions_TrialingSubscriptions",
                table: "people",
                columns: new[] { "Mode", "LastActivity", "ActiveSubscriptions", "PastDueSubscriptions", "TrialingSubscriptions" });

            migrationBuilder.CreateIndex(
                name: "IX_people_Mode_TrialEnd_SubscriptionStatus",
                table: "people",
                columns: new[] { "Mode", "TrialEnd", "SubscriptionStatus" });

            migrationBuilder.CreateIndex(
                name: "IX_person_amounts_Mode_Token_Currency_Amount_PersonId",
                table: "person_amounts",
                columns: new[] { "Mode", "Token", "Currency", "Amount", "PersonId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "person_amounts");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_Key_SearchText",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_LastActivity_ActiveSubscriptions_PastDueSubscriptions_TrialingSubscriptions",
                table: "people");

            migrationBuilder.DropIndex(
                name: "IX_people_Mode_TrialEnd_SubscriptionStatus",
                table: "people");

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

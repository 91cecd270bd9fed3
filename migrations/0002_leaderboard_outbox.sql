CREATE TABLE "leaderboard_outbox" (
	"tenant_id" text NOT NULL,
	"attempt_id" text NOT NULL,
	"batch_id" text NOT NULL,
	"tally" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "leaderboard_outbox_tenant_id_attempt_id_pk" PRIMARY KEY("tenant_id","attempt_id")
);
--> statement-breakpoint
CREATE INDEX "leaderboard_outbox_batch_idx" ON "leaderboard_outbox" USING btree ("tenant_id","batch_id");
CREATE TABLE "ad_rollup_day_campaign" (
	"tenant_id" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"channel" text NOT NULL,
	"campaign" text NOT NULL,
	"country" char(2) NOT NULL,
	"impressions" bigint DEFAULT 0 NOT NULL,
	"views" bigint DEFAULT 0 NOT NULL,
	"clicks" bigint DEFAULT 0 NOT NULL,
	"conversions" bigint DEFAULT 0 NOT NULL,
	"spend" numeric(18, 6) DEFAULT '0' NOT NULL,
	"revenue" numeric(18, 6) DEFAULT '0' NOT NULL,
	CONSTRAINT "ad_rollup_day_campaign_pk" PRIMARY KEY("tenant_id","bucket","channel","campaign","country")
);

--> statement-breakpoint
-- Hand-written: the new rollup starts with everything the full day rollup already holds (the same sums over
-- fewer keys), so the query compiler can pick it at once. The SHARE lock holds ingestion back until this
-- transaction commits: no fold can land in ad_rollup_day between this copy and the table's first fold.
LOCK TABLE "ad_rollup_day" IN SHARE MODE;--> statement-breakpoint
INSERT INTO "ad_rollup_day_campaign" ("tenant_id", "bucket", "channel", "campaign", "country",
  "impressions", "views", "clicks", "conversions", "spend", "revenue")
SELECT "tenant_id", "bucket", "channel", "campaign", "country",
  sum("impressions"), sum("views"), sum("clicks"), sum("conversions"), sum("spend"), sum("revenue")
FROM "ad_rollup_day"
GROUP BY 1, 2, 3, 4, 5;

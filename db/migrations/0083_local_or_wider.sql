-- "Près de chez moi" (issue 22): an alert may keep only its territories and what they contain, without the offers
-- made for wider territories (région, France). Default as before: included.
ALTER TABLE digest_subscriptions ADD COLUMN IF NOT EXISTS include_wider boolean NOT NULL DEFAULT true;

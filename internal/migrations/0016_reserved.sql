-- Reserved for another branch's migration (issue 18): this branch's 0017
-- needs the versions before it to exist. Replaced by that branch's 0016 on merge.
SELECT 1;

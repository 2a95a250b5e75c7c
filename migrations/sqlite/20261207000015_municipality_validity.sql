-- Codes change: 浜松市's seven wards became three on 2024-01-01. A retired code stays (old
-- records and files keep it) with the last day it was used and the code that took over;
-- a new code has the day it started. Dates are 'YYYY-MM-DD'.
ALTER TABLE municipalities ADD COLUMN valid_from TEXT;
ALTER TABLE municipalities ADD COLUMN valid_until TEXT;
ALTER TABLE municipalities ADD COLUMN successor_code TEXT;
ALTER TABLE municipalities ADD COLUMN note TEXT;

-- Echo profiles (events version 3): the same column as
-- migrations/mysql/0007_echo.sql, which says why it exists.

ALTER TABLE checks ADD COLUMN echo_series TEXT NULL;

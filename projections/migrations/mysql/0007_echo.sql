-- Echo profiles (events version 3). A seasonal check handed to fingerprint
-- carries its last 24 h at full resolution beside the long series; labelling
-- the check copies them into the label, from which learn makes the echo
-- profile (spec ionosphere.md §8). Until now only their count was kept
-- (`echo_points`): the points themselves, JSON `[[ts,value],…]` like
-- `series`, NULL for checks without them and for rows folded before this
-- migration (a rebuild from offset 0 fills them from the log).
ALTER TABLE checks
    ADD COLUMN echo_series MEDIUMTEXT NULL;

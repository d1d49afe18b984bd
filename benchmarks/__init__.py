"""Speed targets of isdas, reported as ratios against peers measured in the same run."""

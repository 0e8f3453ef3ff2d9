"""What sfcred remembers of failed logins, and how many logins it has spent (issue 22)."""

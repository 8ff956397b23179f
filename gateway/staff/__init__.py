"""Staff accounts of the ministry and the commission secretariat, and their portal sessions."""

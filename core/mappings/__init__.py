"""Framework crosswalks: mapping files read into neutral pairs, and their ids matched to a bank."""

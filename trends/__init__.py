"""Report counts over time, as plain statistics: calendar weeks and spike tests.

Like `ml`, this package imports neither Flask nor SQLAlchemy: the services read
the counts from the database and hand them over as plain dates and integers.
"""

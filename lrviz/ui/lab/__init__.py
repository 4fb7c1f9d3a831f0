"""The lab pages (one run, the optimizer race, schedules, the LR finder) and what
they share: controls, cached runs, remedies, downloads.
"""

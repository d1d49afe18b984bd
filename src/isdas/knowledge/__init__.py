"""Knowledge stage: ports and services, notable threats, vulnerabilities, countermeasures,
and the offline country lookup. Data is shipped with the package and refreshable by the user.
"""

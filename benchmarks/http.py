"""stub"""
def run(config, report): pass
